package cloud

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// The policies in docs/cloud.md grant exactly the actions of Permissions:
// read-only the reads, operator all of them.
func TestPolicyDocMatchesPermissions(t *testing.T) {
	b, err := os.ReadFile("../docs/cloud.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	policy := func(marker string) []string {
		i := strings.Index(doc, "<!-- policy:"+marker+" -->")
		if i < 0 {
			t.Fatalf("no %s policy in docs/cloud.md", marker)
		}
		rest := doc[i:]
		start := strings.Index(rest, "```json\n") + len("```json\n")
		end := strings.Index(rest[start:], "```")
		var p struct {
			Version   string
			Statement []struct {
				Effect string
				Action []string
			}
		}
		if err := json.Unmarshal([]byte(rest[start:start+end]), &p); err != nil {
			t.Fatalf("%s policy: %v", marker, err)
		}
		var acts []string
		for _, s := range p.Statement {
			if s.Effect != "Allow" {
				t.Fatalf("%s policy: effect %q", marker, s.Effect)
			}
			acts = append(acts, s.Action...)
		}
		slices.Sort(acts)
		return acts
	}
	var read, all []string
	for _, p := range Permissions {
		all = append(all, p.Action)
		if !p.Operator {
			read = append(read, p.Action)
		}
		if !strings.Contains(doc, "| `"+p.Action+"` |") {
			t.Errorf("%s has no row in the action table", p.Action)
		}
	}
	slices.Sort(read)
	slices.Sort(all)
	if got := policy("readonly"); !slices.Equal(got, read) {
		t.Errorf("read-only policy %v, want %v", got, read)
	}
	if got := policy("operator"); !slices.Equal(got, all) {
		t.Errorf("operator policy %v, want %v", got, all)
	}
}
