package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Key files in the data directory.
const (
	KeyFile       = "audit-signing.key" // PKCS#8 PEM Ed25519 private key, mode 0600
	PublicKeyFile = "audit-signing.pub" // PKIX PEM public key, for verifiers
)

// checkpointDomain starts every checkpoint's signed message (docs/audit.md).
const checkpointDomain = "decom.audit.checkpoint.v1\n"

// Checkpoint is a signed statement that event Seq has hash Hash.
type Checkpoint struct {
	Seq       int64
	Time      time.Time
	Hash      string
	KeyID     string
	Signature string // base64 (standard encoding) Ed25519 signature of checkpointMessage
}

// checkpointMessage is the signed byte string: the domain line, then seq
// (decimal), time (TimeLayout) and hash (hex), each as a 4-byte big-endian
// length and the bytes.
func checkpointMessage(seq int64, t, hash string) []byte {
	msg := []byte(checkpointDomain)
	for _, f := range []string{strconv.FormatInt(seq, 10), t, hash} {
		n := len(f)
		msg = append(msg, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		msg = append(msg, f...)
	}
	return msg
}

// KeyID names a public key: the first 16 hex digits of SHA-256 of its 32 raw bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

func signCheckpoint(key ed25519.PrivateKey, seq int64, t time.Time, hash string) Checkpoint {
	t = t.UTC()
	sig := ed25519.Sign(key, checkpointMessage(seq, t.Format(TimeLayout), hash))
	return Checkpoint{Seq: seq, Time: t, Hash: hash, KeyID: KeyID(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(sig)}
}

// Valid reports whether c is signed by pub.
func (c Checkpoint) Valid(pub ed25519.PublicKey) bool {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || c.KeyID != KeyID(pub) {
		return false
	}
	return ed25519.Verify(pub, checkpointMessage(c.Seq, c.Time.UTC().Format(TimeLayout), c.Hash), sig)
}

// LoadOrCreateKey reads the signing key from dir, creating it (and the public
// key file beside it) on first use.
func LoadOrCreateKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKey(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read audit signing key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("read audit signing key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read audit signing key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read audit signing key %s: not an Ed25519 key", path)
	}
	return key, nil
}

func createKey(dir string) (ed25519.PrivateKey, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate audit signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode audit signing key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode audit public key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create audit signing key: %w", err)
	}
	// O_EXCL: two processes starting at once must not overwrite each other's key.
	f, err := os.OpenFile(filepath.Join(dir, KeyFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create audit signing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("write audit signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write audit signing key: %w", err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), pubPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write audit public key: %w", err)
	}
	return key, nil
}

// LoadPublicKey reads a PKIX PEM Ed25519 public key (PublicKeyFile).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read audit public key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("read audit public key %s: no PEM block", path)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read audit public key %s: %w", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("read audit public key %s: not an Ed25519 key", path)
	}
	return pub, nil
}
