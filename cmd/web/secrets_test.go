package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithSecretFiles(t *testing.T) {
	dir := t.TempDir()
	skFile := filepath.Join(dir, "sk")
	if err := os.WriteFile(skFile, []byte("secret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HUAWEICLOUD_SDK_SK_FILE":    skFile,
		"DECOM_CLOUD_TOKEN":          "direct-token",
		"DECOM_CLOUD_TOKEN_FILE":     filepath.Join(dir, "missing"), // the direct value wins; the file is not read
		"DECOM_LISTEN_FILE":          skFile,                        // not a secret variable: left alone
		"HUAWEICLOUD_SDK_PROJECT_ID": "p1",
	}
	getenv, err := withSecretFiles(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"HUAWEICLOUD_SDK_SK":         "secret-from-file",
		"DECOM_CLOUD_TOKEN":          "direct-token",
		"DECOM_LISTEN":               "",
		"HUAWEICLOUD_SDK_PROJECT_ID": "p1",
	} {
		if got := getenv(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}

	env["DECOM_DEMO_PASSWORD_FILE"] = filepath.Join(dir, "nope")
	_, err = withSecretFiles(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "DECOM_DEMO_PASSWORD_FILE") {
		t.Fatalf("unreadable secret file: got %v, want an error naming the variable", err)
	}
	// The whole command refuses to start rather than run without the secret.
	if err := run(t.Context(), []string{"help"}, func(k string) string { return env[k] }, &strings.Builder{}); err == nil {
		t.Fatal("run with an unreadable secret file: got nil error")
	}
}
