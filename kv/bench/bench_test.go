package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"ordo/service/etcd"
)

// TestMain lets this test binary play the etcd member processes.
func TestMain(m *testing.M) {
	if etcd.IsMemberArgs(os.Args[1:]) {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		if err := etcd.MemberMain(ctx, os.Args[3:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// etcdSystem is a real etcd behind the Driver interface, named name so
// that one run can put etcd on both sides of the comparison.
func etcdSystem(t *testing.T, name string) System {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return System{Name: name, About: "etcd, test", Start: func(ctx context.Context, nodes int, dir string) (Driver, error) {
		return etcd.NewDriver(ctx, etcd.Options{N: nodes, Dir: dir, Binary: bin})
	}}
}

// One tiny cell end to end with etcd on both sides, and one failover
// round: every figure the JSON promises is there and positive, and the
// picture is well-formed XML with a shaded fault. No figure is compared
// with another: the machine is shared and noisy.
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real etcd clusters; skipped with -short")
	}
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Nodes: []int{3}, Clients: []int{2}, Duration: time.Second, Warmup: 200 * time.Millisecond,
		Failover: 1, FailoverClients: 2, Dir: t.TempDir(), Seed: 1,
		Ordo: etcdSystem(t, "ordo"), Etcd: etcdSystem(t, "etcd"), Progress: &progress})
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, res); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 1 cell line and 1 failover line, got:\n%s", out.String())
	}
	var cell map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &cell); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nodes", "clients", "ordo_ops_per_s", "etcd_ops_per_s", "ratio", "ordo_p99_ms", "etcd_p99_ms"} {
		v, ok := cell[k].(float64)
		if !ok || !(v > 0) {
			t.Errorf("cell field %q = %v, want a positive number", k, cell[k])
		}
	}
	if cell["nodes"] != 3.0 || cell["clients"] != 2.0 {
		t.Errorf("cell is %v nodes × %v clients, want 3 × 2", cell["nodes"], cell["clients"])
	}
	var fo struct{ Failover Failover }
	if err := json.Unmarshal([]byte(lines[1]), &fo); err != nil {
		t.Fatal(err)
	}
	for _, s := range []FailoverStats{fo.Failover.Ordo, fo.Failover.Etcd} {
		if s.Rounds != 1 || len(s.TimesMs) != 1 || !(s.P50Ms > 0) {
			t.Errorf("failover stats %+v: want 1 round with a positive time", s)
		}
	}
	var svg bytes.Buffer
	if err := WriteSVG(&svg, res); err != nil {
		t.Fatal(err)
	}
	checkXML(t, svg.Bytes())
	if n := strings.Count(svg.String(), "leader killed"); n != 2 {
		t.Errorf("picture shades %d fault periods, want 2 (one round per system)", n)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "failover, 3 nodes") {
		t.Errorf("table lacks the failover figures:\n%s", table.String())
	}
}

func checkXML(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG is not XML: %v", err)
		}
	}
}
