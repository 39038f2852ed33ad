package passwd_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/passwd"
)

// cheap are small parameters for the tests that need many hashes; TestDefaultFormat checks the
// defaults themselves.
var cheap = passwd.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := passwd.New(cheap, 2)
	const pw = "正确的马 battery staple"
	a, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if strings.Contains(a, pw) {
		t.Errorf("the hash %q holds the password", a)
	}
	tests := []struct {
		note string
		hash string
		pw   string
		want bool
	}{
		{note: "right password", hash: a, pw: pw, want: true},
		{note: "right password, other salt", hash: b, pw: pw, want: true},
		{note: "wrong password", hash: a, pw: pw + "x", want: false},
		{note: "empty password", hash: a, pw: "", want: false},
		{note: "no hash (unknown user)", hash: "", pw: pw, want: false},
		{note: "a huge input", hash: a, pw: pw + strings.Repeat("x", 1<<20), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			got, err := h.Verify(ctx, tc.hash, tc.pw)
			if err != nil || got != tc.want {
				t.Errorf("Verify = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// TestDefaultFormat: the default parameters are written into the hash (PHC format), and a
// hash made with other parameters still verifies (it carries its own).
func TestDefaultFormat(t *testing.T) {
	ctx := context.Background()
	h := passwd.New(passwd.Default, 1)
	s, err := h.Hash(ctx, "0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want the argon2id PHC string with m=19456,t=2,p=1", s)
	}
	old, err := passwd.New(cheap, 1).Hash(ctx, "0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(ctx, old, "0123456789"); !ok || err != nil {
		t.Errorf("a hash of other parameters: %v, %v", ok, err)
	}
}

func TestMalformedHash(t *testing.T) {
	h := passwd.New(cheap, 1)
	for _, s := range []string{
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=16$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=4194304,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // 4 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AA",
	} {
		if ok, err := h.Verify(context.Background(), s, "0123456789"); ok || !errors.Is(err, passwd.ErrMalformed) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformed", s, ok, err)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		note string
		pw   string
		want error
	}{
		{note: "ten characters", pw: "0123456789"},
		{note: "ten Chinese characters", pw: "一二三四五六七八九十"},
		{note: "a pass phrase with spaces", pw: "correct horse battery staple"},
		{note: "nine characters", pw: "012345678", want: passwd.ErrTooShort},
		{note: "empty", pw: "", want: passwd.ErrTooShort},
		{note: "too long", pw: strings.Repeat("a", passwd.MaxLength+1), want: passwd.ErrTooLong},
		{note: "longest", pw: strings.Repeat("密", passwd.MaxLength)},
		{note: "a line break", pw: "0123456789\n", want: passwd.ErrControl},
		{note: "a tab", pw: "01234\t56789", want: passwd.ErrControl},
		{note: "invalid UTF-8", pw: "0123456789\xff", want: passwd.ErrControl},
	}
	for _, tc := range tests {
		t.Run(tc.note, func(t *testing.T) {
			if got := passwd.Check(tc.pw); !errors.Is(got, tc.want) {
				t.Errorf("Check = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWaitsForASlot: with every slot taken, a hash waits, and gives up with the request's error
// when the request ends first; a freed slot lets it through.
func TestWaitsForASlot(t *testing.T) {
	h := passwd.New(cheap, 1)
	release := passwd.HoldSlot(h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, err := h.Verify(ctx, "", "0123456789"); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("with no free slot and the request ended: %v, %v; want context.Canceled", ok, err)
	}
	if _, err := h.Hash(ctx, "0123456789"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with no free slot and the request ended: %v", err)
	}
	release()
	if _, err := h.Hash(context.Background(), "0123456789"); err != nil {
		t.Errorf("after the slot is freed: %v", err)
	}
}
