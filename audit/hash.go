package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strconv"
)

// eventDomain starts every event's canonical encoding (docs/audit.md).
const eventDomain = "decom.audit.event.v1\n"

// fieldWriter writes length-prefixed fields: a 4-byte big-endian byte count,
// then the bytes. Prefixing makes the encoding unambiguous for any content.
type fieldWriter struct {
	h   hash.Hash
	len [4]byte
}

func (w *fieldWriter) bytes(b []byte) {
	binary.BigEndian.PutUint32(w.len[:], uint32(len(b)))
	w.h.Write(w.len[:])
	w.h.Write(b)
}

func (w *fieldWriter) str(s string) {
	binary.BigEndian.PutUint32(w.len[:], uint32(len(s)))
	w.h.Write(w.len[:])
	w.h.Write([]byte(s))
}

// storedFields is an event exactly as stored, in canonical order: seq, time,
// actor, client_ip, user_agent, action, change_id, service, project,
// resource_id, resource_name, outcome, details, prev_hash. Integers are
// decimal ASCII.
type storedFields [14][]byte

// hashStored returns the lowercase hex SHA-256 of the canonical encoding.
func hashStored(f *storedFields) string {
	w := fieldWriter{h: sha256.New()}
	w.h.Write([]byte(eventDomain))
	for _, b := range f {
		w.bytes(b)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(w.h.Sum(sum[:0]))
}

// computeHash hashes an Event whose Details are already canonical: fields
// seq, time, actor, client_ip, user_agent, action, change_id, service,
// project, resource_id, resource_name, outcome, details, prev_hash, each as a
// 4-byte big-endian length and its bytes (integers in decimal).
func computeHash(e *Event) string {
	w := fieldWriter{h: sha256.New()}
	w.h.Write([]byte(eventDomain))
	w.str(strconv.FormatInt(e.Seq, 10))
	w.str(e.Time.UTC().Format(TimeLayout))
	w.str(e.Actor)
	w.str(e.ClientIP)
	w.str(e.UserAgent)
	w.str(string(e.Action))
	w.str(strconv.FormatInt(e.ChangeID, 10))
	w.str(e.Service)
	w.str(e.Project)
	w.str(e.ResourceID)
	w.str(e.ResourceName)
	w.str(e.Outcome)
	w.bytes(e.Details)
	w.str(e.PrevHash)
	var sum [sha256.Size]byte
	return hex.EncodeToString(w.h.Sum(sum[:0]))
}
