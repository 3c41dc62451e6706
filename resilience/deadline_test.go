package resilience

import (
	"errors"
	"testing"
	"time"
)

// A deadline travels as the time remaining and shrinks at each hop: the
// time spent at a hop and the margin it reserves both come off.
func TestDeadlineShrinksPerHop(t *testing.T) {
	d := DeadlineIn(5*time.Second, time.Second) // client: 1s from its own origin
	hdr := d.Encode(5*time.Second + 100*ms)     // client spent 100ms before sending
	if hdr != "900000u" {                       // the finest unit that fits in eight digits
		t.Fatalf("header %q, want 900000u", hdr)
	}
	// Server with another clock origin, reserving 50ms for the way back.
	s, err := ParseDeadline(42*time.Hour, hdr, 50*ms)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Remaining(42 * time.Hour); got != 850*ms {
		t.Fatalf("server remaining %v, want 850ms", got)
	}
	if !s.Expired(42*time.Hour+850*ms) || s.Expired(42*time.Hour+849*ms) {
		t.Fatal("expiry off by one")
	}
	if NoDeadline.Encode(0) != "" || NoDeadline.Expired(1<<62) {
		t.Fatal("no deadline must encode empty and never expire")
	}
	if got := DeadlineIn(0, ms).Min(DeadlineIn(0, 2*ms)); got.At() != ms {
		t.Fatalf("Min = %v", got.At())
	}
}

func TestTimeoutString(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0n"}, {-time.Second, "0n"}, {1, "1n"}, {99_999_999, "99999999n"},
		{100_000_000, "100000u"}, {time.Hour, "3600000m"},
		{100_000_001, "100001u"}, // rounds up: never more time than the sender had… less is fine
		{1<<63 - 1, "2562048H"},
	} {
		if got := TimeoutString(tc.d); got != tc.want {
			t.Errorf("TimeoutString(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	for _, bad := range []string{"", "1", "m", "123456789m", "1x", "-1m", "1.5S", "１m"} {
		if _, err := ParseTimeout(bad); !errors.Is(err, ErrTimeoutSyntax) {
			t.Errorf("ParseTimeout(%q) = %v, want ErrTimeoutSyntax", bad, err)
		}
	}
	if d, err := ParseTimeout("99999999H"); err != nil || d != MaxTimeout {
		t.Errorf("99999999H = %v, %v; want clamped to MaxTimeout", d, err)
	}
}

// Every header value parses without panicking and, when it parses, its
// value formats back to a value no larger (rounding is up only at the
// sender).
func FuzzParseTimeout(f *testing.F) {
	for _, s := range []string{"1m", "0n", "99999999H", "12S", "", "1x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimeout(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q parsed to negative %v", s, d)
		}
		back, err := ParseTimeout(TimeoutString(d))
		if err != nil || back < d {
			t.Fatalf("%q → %v → %q → %v, %v", s, d, TimeoutString(d), back, err)
		}
	})
}

func FuzzDecodeDeadline(f *testing.F) {
	f.Add(DeadlineIn(0, time.Second).AppendBinary(nil, 0))
	f.Add(NoDeadline.AppendBinary(nil, 0))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, n, err := DecodeDeadline(b, 0)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("read %d of %d bytes", n, len(b))
		}
		again, _, err := DecodeDeadline(d.AppendBinary(nil, 0), 0)
		if err != nil || again != d {
			t.Fatalf("round trip %v → %v, %v", d, again, err)
		}
	})
}
