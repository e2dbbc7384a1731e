package cloud

import (
	"errors"
	"testing"
)

func TestMissingAction(t *testing.T) {
	tests := []struct{ name, op, msg, want string }{
		{
			"named by the cloud",
			"dms.list",
			"Policy doesn't allow dms:instance:list to be performed.",
			"dms:instance:list",
		},
		{"cloud names another", "clouddc.batch_delete", "Policy doesn't allow clouddc:instance:delete to be performed.",
			"clouddc:instance:delete"},
		{"message without action", "clouddc.batch_delete", "The IAM or enterprise project policy does not allow access",
			"clouddc:instance:deleteBatch"},
		{
			"URL is not an action",
			"roma.apps.list",
			"see https://support.huaweicloud.com:443/x",
			"roma:applications:list",
		},
		{"unknown op", "nope", "forbidden", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := missingAction(tt.op, tt.msg); got != tt.want {
				t.Fatalf("missingAction(%q, %q) = %q, want %q", tt.op, tt.msg, got, tt.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	e := &Error{Class: ErrPermission, Service: ROMA, Operation: "roma.apps.list", Project: "p1",
		Action: "roma:applications:list", HTTPStatus: 403}
	want := "permission denied: needs roma:applications:list in project p1 (ROMA Connect)"
	if got := Explain(e); got != want {
		t.Fatalf("Explain = %q, want %q", got, want)
	}
	if !Definitive(e) || Definitive(&Error{Class: ErrTransient}) || Explain(errors.New("x")) != "x" {
		t.Fatal("Definitive/Explain on other errors")
	}
}
