package tour

import (
	"fmt"
	"io"
	"time"

	"ordo/sim"
	"ordo/trace"
)

// Section 1, the eight fallacies, and section 5's partition, on the
// reliable broadcast of package broadcast.

func sceneLossy(w io.Writer) error {
	r, err := runBuiltin("broadcast-lossy")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Fallacy 1, "the network is reliable". Node 1 broadcasts 20 values over a LAN
that loses 30% of messages; receivers ack, the sender retransmits until acked
(대응: 재시도, 타임아웃, 멱등성 — retry, timeout, idempotency). Drops are ✗:`)
	fmt.Fprintln(w)
	from, err := window(w, r.Trace, 14, func(e *trace.Event) bool { return e.Kind == trace.Drop })
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	writeFallacies(w, r)
	writeChecks(w, r)
	fmt.Fprintf(w, "last value delivered at %v\n", lastDelivery(r.Trace).Round(time.Millisecond))
	fmt.Fprintln(w, rerunDiagram("broadcast-lossy", from, 14))
	return nil
}

func sceneFarAway(w io.Writer) error {
	r, err := runBuiltin("broadcast-intercontinental")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Fallacies 2, 3, 4, 7, 8. The same broadcast, but nodes 4 and 5 are across an
ocean (~150ms round trip, like Seoul–US West) behind 2KB/s links, and a man
in the middle alters 10% of messages. Links are authenticated, so an altered
message is detected and dropped, and retransmission repairs it.`)
	fmt.Fprintln(w)
	writeFallacies(w, r)
	writeChecks(w, r)
	fmt.Fprintf(w, "last value delivered at %v (on the LAN alone it takes about 2s)\n", lastDelivery(r.Trace).Round(time.Millisecond))
	if !r.Fallacies.Has(sim.FallacyBandwidth) || !r.Fallacies.Has(sim.FallacySecure) {
		return fmt.Errorf("broadcast-intercontinental should exercise fallacies 3 and 4, got %v", r.Fallacies.List())
	}
	fmt.Fprintln(w, "rerun: ordo sim broadcast-intercontinental")
	return nil
}

func sceneTampered(w io.Writer) error {
	r, err := runBuiltin("broadcast-tampered")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Fallacy 4, "the network is secure", without the defence: the same tampering
on unauthenticated links. Altered values are delivered and forged acks are
believed, and the checker catches it (this scenario expects the failure):`)
	fmt.Fprintln(w)
	writeChecks(w, r)
	fmt.Fprintln(w, "defence (대응: TLS, 인증, 암호화): network: {authenticated: true}")
	fmt.Fprintln(w, "rerun: ordo sim broadcast-tampered")
	return nil
}

func scenePartition(w io.Writer) error {
	r, err := runBuiltin("broadcast-partition")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, `Network partition. At 500ms the cluster splits into {1,2} | {3,4,5} while
node 1 broadcasts; at 3s it heals. The far side cannot tell a partition from a
silent sender; the sender cannot tell it from dead receivers. It keeps
retransmitting, and when the partition heals every value gets through:`)
	fmt.Fprintln(w)
	heal := int64(3 * time.Second)
	from, err := window(w, r.Trace, 15, func(e *trace.Event) bool { return e.Kind == trace.Recv && e.Node >= 3 && e.T >= heal })
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	writeChecks(w, r)
	fmt.Fprintf(w, "lost to the partition: %d messages; last value delivered at %v, after the heal at 3s\n",
		r.Stats.Dropped, lastDelivery(r.Trace).Round(time.Millisecond))
	fmt.Fprintln(w, rerunDiagram("broadcast-partition", from, 15))
	return nil
}
