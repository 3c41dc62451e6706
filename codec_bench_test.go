package ordo_test

import (
	"encoding/json"
	"testing"

	"ordo"
	"ordo/election/raft"
)

// The codec against encoding/json (the codec ordo used before) on Raft's
// messages: go test -run '^$' -bench Codec -benchmem .

var benchMsgs = []struct {
	name string
	m    ordo.Message
}{
	{"Heartbeat", raft.Heartbeat{Term: 12, Leader: 3, Round: 4711, PrevLogIndex: 100_000, PrevLogTerm: 11, CommitIndex: 99_998}},
	{"RequestVote", raft.RequestVote{Term: 13, Candidate: 2, LastLogIndex: 100_000, LastLogTerm: 12}},
}

func BenchmarkCodecRoundTrip(b *testing.B) {
	c, _ := ordo.NewCodec(raft.Messages)
	for _, bm := range benchMsgs {
		b.Run(bm.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			var err error
			for b.Loop() {
				if buf, err = c.Append(buf[:0], bm.m); err != nil {
					b.Fatal(err)
				}
				if _, err = c.Decode(bm.m.Kind(), buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(buf)), "bytes/msg")
		})
	}
}

func BenchmarkCodecSize(b *testing.B) {
	c, _ := ordo.NewCodec(raft.Messages)
	m := benchMsgs[0].m
	for b.Loop() {
		if _, err := c.Size(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONRoundTrip(b *testing.B) {
	for _, bm := range benchMsgs {
		b.Run(bm.name, func(b *testing.B) {
			var out []byte
			for b.Loop() {
				var err error
				if out, err = json.Marshal(bm.m); err != nil {
					b.Fatal(err)
				}
				var hb raft.Heartbeat
				var rv raft.RequestVote
				var dst any = &hb
				if bm.name == "RequestVote" {
					dst = &rv
				}
				if err := json.Unmarshal(out, dst); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out)), "bytes/msg")
		})
	}
}
