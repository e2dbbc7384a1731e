package changes

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/decom/decom/cloud"
)

// TagReader is the optional part of Cloud that reads one DMS instance's tags
// with the per-instance call; *cloud.Client has it. The cloud's docs do not
// promise that lists carry tags (cloud-api.md §2.11), so the re-read before
// execution takes DMS tags from this call, the authoritative source, before
// deciding protection. A Cloud without it (test fakes) keeps the read's tags.
type TagReader interface {
	DMSTags(ctx context.Context, ref cloud.Ref) ([]cloud.Tag, error)
}

// tagReadConcurrency bounds the parallel per-instance tag calls.
const tagReadConcurrency = 4

// rereadDMSTags replaces the tags of every DMS instance in live with the
// per-instance answer. An instance the tag call no longer finds is gone.
func (s *Service) rereadDMSTags(ctx context.Context, live map[string]cloud.Resource) error {
	tr, ok := s.cloud.(TagReader)
	if !ok {
		return nil
	}
	var keys []string
	for k, r := range live {
		if isDMS(r.Service) && r.Class != cloud.ClassGone {
			keys = append(keys, k)
		}
	}
	tags := make([][]cloud.Tag, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, tagReadConcurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			tags[i], errs[i] = tr.DMSTags(ctx, live[k].Ref)
		}()
	}
	wg.Wait()
	for i, k := range keys {
		switch {
		case errors.Is(errs[i], cloud.ErrNotFound):
			delete(live, k)
		case errs[i] != nil:
			return fmt.Errorf("read tags of %s: %w", live[k].Name, errs[i])
		default:
			r := live[k]
			r.Tags = tags[i]
			live[k] = r
		}
	}
	return nil
}
