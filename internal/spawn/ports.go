package spawn

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePorts finds n loopback addresses free at the moment, on ports
// outside the kernel's ephemeral range (EphemeralRange). A port from that
// range, once its node is killed, can be taken as the source port of any
// outgoing connection on the machine (the other nodes redial it every
// few hundred milliseconds), and the restarted node then cannot bind it
// again ("exited at start"). Cluster nodes (package live) and etcd
// members (service/etcd) take their ports here.
func FreePorts(n int) ([]string, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	lo, hi := EphemeralRange()
	// Below the range if there is room, else above it.
	from, to := MinPort, lo-1
	if to-from < 1000 {
		from, to = hi+1, 65535
	}
	var out []string
	for tries := 0; len(out) < n; tries++ {
		if tries > 64*n {
			return nil, fmt.Errorf("no %d free loopback ports in %d-%d (outside the ephemeral range %d-%d)", n, from, to, lo, hi)
		}
		port := from + rand.IntN(to-from+1)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken: another
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	return out, nil
}

// MinPort is the lowest port a cluster takes: above the ports
// services are usually configured on.
const MinPort = 10000

// EphemeralRange is the kernel's range of source ports for outgoing
// connections (Linux: /proc/sys/net/ipv4/ip_local_port_range), or
// Linux's default when it cannot be read.
func EphemeralRange() (lo, hi int) {
	lo, hi = 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	l, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || l < 1 || h > 65535 || l > h {
		return lo, hi
	}
	return l, h
}
