// Package passwd hashes and verifies the users' passwords with argon2id (RFC 9106, through
// golang.org/x/crypto/argon2), and says which passwords are acceptable.
//
// A hash is stored in the PHC string format, "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>"
// (unpadded standard base64), so that it carries its own parameters: a stored hash keeps
// verifying after the defaults change. The defaults are the first of OWASP's recommended
// argon2id settings (19 MiB of memory, 2 passes, 1 lane, a 16-byte random salt, a 32-byte
// key), about 40 ms on one core of a small server. Each hash holds its memory while it runs, so
// a Hasher lets only a few run at once (the others wait, or give up when their request ends):
// a burst of sign-ins costs time, never the service's memory.
//
// A password is never stored, logged or returned; it is compared only through its hash, in
// constant time.
package passwd

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id parameters of new hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Default is OWASP's first recommended argon2id setting: m=19 MiB, t=2, p=1.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// The bounds of a stored hash's parameters: a hash outside them is refused rather than
// computed, so that a damaged or planted store document cannot make one sign-in take a
// gigabyte or a minute.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 16
	maxThreads = 16
)

// The length of an acceptable password, in characters (a Chinese character counts one).
const (
	MinLength = 10
	MaxLength = 128
)

// maxBytes is the most bytes an acceptable password has (MaxLength characters of UTF-8).
const maxBytes = 4 * MaxLength

// Errors of Check, for the pages to explain in the user's language.
var (
	ErrTooShort = fmt.Errorf("a password needs at least %d characters", MinLength)
	ErrTooLong  = fmt.Errorf("a password has at most %d characters", MaxLength)
	ErrControl  = errors.New("a password may not contain control characters or line breaks")
)

// Check reports whether pw is acceptable as a new password: MinLength to MaxLength characters
// of valid UTF-8 without control characters. Spaces are allowed (pass phrases).
func Check(pw string) error {
	if !utf8.ValidString(pw) {
		return ErrControl
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		return ErrTooShort
	case n > MaxLength:
		return ErrTooLong
	}
	if strings.IndexFunc(pw, unicode.IsControl) >= 0 {
		return ErrControl
	}
	return nil
}

// Hasher hashes and verifies passwords, at most a few at a time.
type Hasher struct {
	p        Params
	slots    chan struct{}
	computed atomic.Int64
	dummy    string // a hash of the default cost, verified against when there is no hash to check
}

// New returns a hasher of new hashes with p that runs at most concurrent hashes at once
// (1 when less).
func New(p Params, concurrent int) *Hasher {
	if concurrent < 1 {
		concurrent = 1
	}
	h := &Hasher{p: p, slots: make(chan struct{}, concurrent)}
	// The dummy's key is never matched (Verify answers false for it whatever it computes),
	// only its parameters matter: the default cost.
	h.dummy = encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen))
	return h
}

// Hash returns the PHC string of a new hash of pw with a fresh random salt. It does not check
// pw (Check does).
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key, err := h.key(ctx, h.p, pw, salt)
	if err != nil {
		return "", err
	}
	return encode(h.p, salt, key), nil
}

// Verify reports whether pw matches the stored hash, comparing in constant time. With an
// empty hash (an unknown user, a user without a password) it verifies against a dummy hash of
// the default cost and answers false, so that the answer takes as long as for a wrong password.
// A malformed hash is an error, never a match.
func (h *Hasher) Verify(ctx context.Context, hash, pw string) (bool, error) {
	if len(pw) > maxBytes {
		// Longer than any acceptable password: cut to a length no acceptable password has, so
		// that a huge input costs no more than a long one and still never matches.
		pw = pw[:maxBytes+1]
	}
	real := hash != ""
	if !real {
		hash = h.dummy
	}
	p, salt, want, err := decode(hash)
	if err != nil {
		return false, err
	}
	got, err := h.key(ctx, p, pw, salt)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1 && real, nil
}

// key computes one argon2id key once a slot is free, or gives up when ctx ends first.
func (h *Hasher) key(ctx context.Context, p Params, pw string, salt []byte) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	h.computed.Add(1)
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// Computed is the number of keys h has computed, hashes and verifications alike (the dummy's
// included): the tests read it to see that every sign-in does the same work.
func (h *Hasher) Computed() int64 { return h.computed.Load() }

func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// ErrMalformed is the error of a stored hash that is not an argon2id PHC string within bounds.
var ErrMalformed = errors.New("malformed or unsupported password hash")

func decode(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformed
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil {
		return p, nil, nil, ErrMalformed
	}
	if p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || threads < 1 || threads > maxThreads ||
		p.Memory < 8*threads {
		return p, nil, nil, ErrMalformed
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
