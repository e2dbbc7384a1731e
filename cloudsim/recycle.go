package cloudsim

import "net/http"

// matchRecycle routes /v2/{p}/recycle (cloud-api.md §2.7-§2.9).
func matchRecycle(m string) route {
	switch m {
	case http.MethodGet, http.MethodPut, http.MethodPost:
	}
	return route{}
}
