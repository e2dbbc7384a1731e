package main

import (
	"fmt"
	"os"
	"strings"
)

// secretVars are the environment variables that hold secrets. Each may
// instead name a file in KEY_FILE (Docker and Kubernetes secrets), so the
// secret never sits in the process environment.
var secretVars = []string{
	"HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "DECOM_CLOUD_TOKEN",
	"DECOM_SESSION_KEY", "DECOM_DEMO_PASSWORD", "DECOM_USER_PASSWORD", "DECOM_OIDC_CLIENT_SECRET",
}

// withSecretFiles returns getenv with every secret variable that is unset
// read from its KEY_FILE, once, so every subcommand and package sees it.
func withSecretFiles(getenv func(string) string) (func(string) string, error) {
	resolved := map[string]string{}
	for _, key := range secretVars {
		v, err := secretFromEnv(getenv, key)
		if err != nil {
			return nil, err
		}
		if v != "" {
			resolved[key] = v
		}
	}
	return func(key string) string {
		if v, ok := resolved[key]; ok {
			return v
		}
		return getenv(key)
	}, nil
}

// secretFromEnv reads KEY, or the file named by KEY_FILE.
func secretFromEnv(getenv func(string) string, key string) (string, error) {
	if v := getenv(key); v != "" {
		return v, nil
	}
	if p := getenv(key + "_FILE"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", key, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}
