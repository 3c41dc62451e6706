package raft

import (
	"testing"

	"ordo"
)

func BenchmarkZZDecodeAE(b *testing.B) {
	c, err := ordo.NewCodec([]ordo.Message{AppendEntries{}, AppendResp{}})
	if err != nil {
		b.Fatal(err)
	}
	m := AppendEntries{Term: 3, Leader: 1, PrevIndex: 100000, PrevTerm: 3, Commit: 99990}
	for i := 0; i < 16; i++ {
		m.Entries = append(m.Entries, Entry{Term: 3, Type: EntryNormal, Data: make([]byte, 150)})
	}
	buf, err := c.Encode(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(m.Kind(), buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Encode(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
