package spawn

import (
	"net"
	"strconv"
	"testing"
)

// A cluster's ports lie outside the kernel's ephemeral range: a killed
// node's port must not be taken as some connection's source port while
// it is down, or its restart cannot bind it again.
func TestFreePortsOutsideTheEphemeralRange(t *testing.T) {
	lo, hi := EphemeralRange()
	addrs, err := FreePorts(30)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(p)
		if port >= lo && port <= hi || port < MinPort {
			t.Errorf("port %d: inside the ephemeral range %d-%d or below %d", port, lo, hi, MinPort)
		}
		if seen[a] {
			t.Errorf("%s given twice", a)
		}
		seen[a] = true
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("%s is not free: %v", a, err)
			continue
		}
		ln.Close()
	}
}
