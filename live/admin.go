package live

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ordo"
	"ordo/live/transport"
)

// Status is what GET /status answers.
type Status struct {
	ID            ordo.NodeID            `json:"id"`
	Pid           int                    `json:"pid"`
	Protocol      string                 `json:"protocol"`
	Boot          int                    `json:"boot"` // 1 for the first start, +1 per restart
	Role          string                 `json:"role"` // from the protocol's notes; "" before the first
	Term          int64                  `json:"term"`
	Leader        ordo.NodeID            `json:"leader"` // 0: unknown
	Elections     int                    `json:"elections"`
	LeaderChanges int                    `json:"leader_changes"`
	Peers         []transport.PeerStatus `json:"peers"`
	Faults        transport.Faults       `json:"faults"`
	Now           int64                  `json:"now_ns"` // wall ns since the cluster epoch
}

// Status returns the node's current status.
func (r *Runtime) Status() Status {
	r.statusMu.Lock()
	s := r.status
	r.statusMu.Unlock()
	return Status{
		ID: r.id, Pid: os.Getpid(), Protocol: r.proto.Name, Boot: r.boot, Role: s.Role, Term: s.Term, Leader: s.Leader,
		Elections: s.Elections, LeaderChanges: s.LeaderChanges, Peers: r.tr.Peers(), Faults: r.tr.Faults(),
		Now: time.Since(r.epoch).Nanoseconds(),
	}
}

// SetFaults sets the fault layer of the node's transport.
func (r *Runtime) SetFaults(f transport.Faults) error {
	if err := r.tr.SetFaults(f); err != nil {
		return err
	}
	r.log.Info("faults set", "block_out", f.BlockOut, "block_in", f.BlockIn, "delay", time.Duration(f.Delay), "loss", f.Loss)
	return nil
}

// adminHandler serves the admin endpoint:
//
//	GET  /status   the node's role, term, leader and peers (JSON)
//	GET  /faults   the fault layer's setting (JSON)
//	POST /faults   replace it: {"block_out":[3],"block_in":[3],"delay":"50ms","loss":0.1}
//	POST /heal     clear it
//	GET  /clock    the node's clock: offset, drift, monotonic reading (JSON)
//	POST /clock    step, offset or drift it: {"step":"10s"}, {"drift_ppm":100}
//	GET  /metrics  Prometheus metrics
func (r *Runtime) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, r.Status())
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, r.tr.Faults())
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, req *http.Request) {
		var f transport.Faults
		dec := json.NewDecoder(io.LimitReader(req.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := r.SetFaults(f); err != nil {
			http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, r.tr.Faults())
	})
	mux.HandleFunc("POST /heal", func(w http.ResponseWriter, req *http.Request) {
		r.SetFaults(transport.Faults{})
		writeJSON(w, r.tr.Faults())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.metrics.reg, promhttp.HandlerOpts{}))
	r.clockRoutes(mux) // GET, POST /clock: the node's clock fault (clock.go)
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		fmt.Fprintln(w, err)
	}
}
