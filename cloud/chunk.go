package cloud

// API batch limits (cloud-api.md §2.4, §3.4, §4.4).
const (
	MaxDMSBatch     = 50  // IDs per DMS batch delete (our limit; the API documents none)
	MaxROMABatch    = 100 // apps + tasks per ROMA asset-deletion job
	MaxCloudDCBatch = 50  // IDs per CloudDC batch delete
	maxCloudDCIDs   = 100 // IDs per CloudDC list instance_id filter
)

// Page sizes: the largest each list API allows, so listing N resources
// takes the fewest calls.
const (
	dmsPageSize      = 50
	romaInstancePage = 100
	romaAppPage      = 500
	romaTaskPage     = 999
	cloudDCPageSize  = 1000
)

// Chunk splits ids into consecutive batches of at most n (n < 1 means one
// batch). It never returns an empty batch.
func Chunk(ids []string, n int) [][]string {
	if len(ids) == 0 {
		return nil
	}
	if n < 1 {
		n = len(ids)
	}
	out := make([][]string, 0, (len(ids)+n-1)/n)
	for len(ids) > 0 {
		k := min(n, len(ids))
		out = append(out, ids[:k:k])
		ids = ids[k:]
	}
	return out
}

// ROMABatch is one ROMA asset-deletion job's worth of assets.
type ROMABatch struct {
	Apps  []string `json:"apps"`
	Tasks []string `json:"tasks"`
}

// Size is the number of assets in the batch.
func (b ROMABatch) Size() int { return len(b.Apps) + len(b.Tasks) }

// ChunkROMA splits apps and tasks into jobs of at most MaxROMABatch assets
// in all, apps first, filling each job before starting the next.
func ChunkROMA(apps, tasks []string) []ROMABatch {
	var out []ROMABatch
	var cur ROMABatch
	flush := func() {
		if cur.Size() > 0 {
			out = append(out, cur)
			cur = ROMABatch{}
		}
	}
	for _, a := range apps {
		if cur.Size() == MaxROMABatch {
			flush()
		}
		cur.Apps = append(cur.Apps, a)
	}
	for _, t := range tasks {
		if cur.Size() == MaxROMABatch {
			flush()
		}
		cur.Tasks = append(cur.Tasks, t)
	}
	flush()
	return out
}
