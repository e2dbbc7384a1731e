package cloud

import (
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/impl"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// tokenCredentialType is the name the SDK builders must be told to accept
// (WithCredentialsType compares the Go type name).
const tokenCredentialType = "cloud.TokenCredential"

// TokenCredential sends an IAM token (X-Auth-Token) through the SDK, which
// itself only knows AK/SK signing (cloud-api.md §1.3).
type TokenCredential struct {
	projectID string
	token     string
}

var _ auth.ICredential = (*TokenCredential)(nil)

// NewTokenCredential returns a credential for one project.
func NewTokenCredential(projectID, token string) *TokenCredential {
	return &TokenCredential{projectID: projectID, token: token}
}

// ProcessAuthParams returns the credential unchanged: the project ID is
// always configured, so there is nothing to look up.
func (t *TokenCredential) ProcessAuthParams(*impl.DefaultHttpClient, string) (auth.ICredential, error) {
	return t, nil
}

// ProcessAuthRequest fills {project_id} and adds the token and project
// headers. Build() is what substitutes the path parameter.
func (t *TokenCredential) ProcessAuthRequest(
	_ *impl.DefaultHttpClient,
	req *request.DefaultHttpRequest,
) (*request.DefaultHttpRequest, error) {
	return req.Builder().
		AddAutoFilledPathParam("project_id", t.projectID).
		AddHeaderParam("X-Auth-Token", t.token).
		AddHeaderParam("X-Project-Id", t.projectID).
		Build(), nil
}

// String never shows the token.
func (t *TokenCredential) String() string {
	return "TokenCredential{project:" + t.projectID + " token:***}"
}

// GoString never shows the token.
func (t *TokenCredential) GoString() string { return t.String() }
