package cloud

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// TagSelector picks resources by one tag: by key with any value ("team"), or
// by key and value ("team=payments"). Both the inventory's tag filter and
// decom's protection rules use it, so a tag matches the same way everywhere.
//
// Matching ignores case in keys and values: "Decom:Protect" matches
// "decom:protect". A protection rule that misses a resource over a letter's
// case would let it be deleted; a filter is for finding things.
type TagSelector struct {
	Key      string
	Value    string
	AnyValue bool // true: only the key is compared
}

// Tag limits (cloud-api.md §2.11, §4.7).
const (
	MaxTagKey   = 128
	MaxTagValue = 255
)

// ParseTagSelector reads "key" or "key=value". The first "=" separates key
// and value, so a key that itself contains "=" (the cloud allows it, rarely
// used) cannot be selected. Keys are trimmed of spaces (the cloud refuses
// leading and trailing spaces); values are kept as written. "key=" selects
// the key with an empty value.
func ParseTagSelector(s string) (TagSelector, error) {
	key, value, hasValue := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	switch {
	case key == "":
		return TagSelector{}, errors.New("the tag key is empty")
	case utf8.RuneCountInString(key) > MaxTagKey:
		return TagSelector{}, errors.New("the tag key is longer than 128 characters")
	case utf8.RuneCountInString(value) > MaxTagValue:
		return TagSelector{}, errors.New("the tag value is longer than 255 characters")
	case strings.ContainsFunc(s, isControl):
		return TagSelector{}, errors.New("the tag contains control characters")
	}
	return TagSelector{Key: key, Value: value, AnyValue: !hasValue}, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// String is the selector as ParseTagSelector reads it.
func (t TagSelector) String() string {
	if t.AnyValue {
		return t.Key
	}
	return t.Key + "=" + t.Value
}

// Matches reports whether one of tags has the key (and the value, unless
// AnyValue), ignoring case.
func (t TagSelector) Matches(tags []Tag) bool {
	for _, tag := range tags {
		if strings.EqualFold(strings.TrimSpace(tag.Key), t.Key) &&
			(t.AnyValue || strings.EqualFold(tag.Value, t.Value)) {
			return true
		}
	}
	return false
}
