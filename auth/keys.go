package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SessionKeys are the cookie store's keys: Hash authenticates (HMAC-SHA256),
// Block encrypts (AES-256). Previous pairs, if any, still decode old cookies
// during a rotation.
type SessionKeys struct {
	Hash, Block []byte
	Previous    []SessionKeys // older keys, accepted for reading during a rotation
}

// Pairs returns the key pairs in the order gorilla/securecookie wants them:
// current hash and block key first, then each previous pair.
func (k SessionKeys) Pairs() [][]byte {
	out := [][]byte{k.Hash, k.Block}
	for _, p := range k.Previous {
		out = append(out, p.Hash, p.Block)
	}
	return out
}

// ParseSessionKeys decodes a comma-separated list of keys: the current one
// first, then previous ones still accepted (for rotating without signing
// everyone out).
func ParseSessionKeys(s string) (SessionKeys, error) {
	var keys SessionKeys
	for i, part := range strings.Split(s, ",") {
		k, err := ParseSessionKey(part)
		if err != nil {
			return SessionKeys{}, fmt.Errorf("key %d: %w", i+1, err)
		}
		if i == 0 {
			keys = k
		} else {
			keys.Previous = append(keys.Previous, k)
		}
	}
	return keys, nil
}

// ParseSessionKey decodes a configured key: 128 hex characters (64 bytes,
// the first half for Hash and the second for Block).
func ParseSessionKey(s string) (SessionKeys, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 64 {
		return SessionKeys{}, errors.New("session key must be 128 hex characters (64 random bytes)")
	}
	return SessionKeys{Hash: b[:32], Block: b[32:]}, nil
}

// LoadOrCreateSessionKey reads the key file at path, creating it with a new
// random key (mode 0600) if it does not exist.
func LoadOrCreateSessionKey(path string) (SessionKeys, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseSessionKey(string(b))
		if err != nil {
			return SessionKeys{}, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return SessionKeys{}, fmt.Errorf("read session key: %w", err)
	}
	raw := make([]byte, 64)
	if _, err := rand.Read(raw); err != nil {
		return SessionKeys{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return SessionKeys{}, fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return SessionKeys{}, fmt.Errorf("create session key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		return SessionKeys{}, fmt.Errorf("write session key: %w", err)
	}
	return SessionKeys{Hash: raw[:32], Block: raw[32:]}, nil
}
