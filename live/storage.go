package live

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ordo"
)

// DiskStorage is a node's durable state: one file per key in a directory.
// A Put writes a temporary file, fsyncs it, renames it over the key's file
// and fsyncs the directory, so when Put returns the value survives a crash
// of the process or the machine, and a crash during Put leaves the old value
// or the new one, never a torn one. A failing disk stops the node
// (fail-stop): Put and Delete panic with FailStop, which the runtime turns
// into a stop of the node rather than running on with lost state. Like
// the rest of ordo.Env, it is used by the node's event loop only.
type DiskStorage struct {
	dir string
	m   map[string][]byte
}

// FailStop is the panic value of a storage failure.
type FailStop struct{ Err error }

func (f FailStop) Error() string { return "fail-stop: " + f.Err.Error() }

// MaxValue bounds one stored value.
const MaxValue = 16 << 20

const keyPrefix = "k-"

// OpenDiskStorage opens (creating) dir and loads its keys.
func OpenDiskStorage(dir string) (*DiskStorage, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &DiskStorage{dir: dir, m: map[string][]byte{}}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(dir, name)) // a Put cut short by a crash
			continue
		}
		hk, ok := strings.CutPrefix(name, keyPrefix)
		if !ok {
			continue
		}
		k, err := hex.DecodeString(hk)
		if err != nil {
			continue
		}
		v, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("storage: %v", err)
		}
		s.m[string(k)] = v
	}
	return s, nil
}

func (s *DiskStorage) file(key string) string {
	return filepath.Join(s.dir, keyPrefix+hex.EncodeToString([]byte(key)))
}

// Get returns the value of key.
func (s *DiskStorage) Get(key string) ([]byte, bool) {
	v, ok := s.m[key]
	return v, ok
}

// Put stores value durably.
func (s *DiskStorage) Put(key string, value []byte) {
	if len(value) > MaxValue || len(key) > 200 {
		panic(fmt.Sprintf("live: storage value of %d bytes or key of %d bytes exceeds the bound", len(value), len(key)))
	}
	if err := writeFileAtomic(s.file(key), value); err != nil {
		panic(FailStop{fmt.Errorf("storage put %q: %w", key, err)})
	}
	s.m[key] = append([]byte(nil), value...)
}

// Delete removes key durably.
func (s *DiskStorage) Delete(key string) {
	err := os.Remove(s.file(key))
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil && !os.IsNotExist(err) {
		panic(FailStop{fmt.Errorf("storage delete %q: %w", key, err)})
	}
	delete(s.m, key)
}

// writeFileAtomic is write temp + fsync + rename + fsync dir.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// DeleteRange removes every key in [start, end) durably.
// TODO(storage v2): one fsync for the whole range.
func (s *DiskStorage) DeleteRange(start, end string) {
	var del []string
	for k := range s.m {
		if ordo.InRange(k, start, end) {
			del = append(del, k)
		}
	}
	for _, k := range del {
		s.Delete(k)
	}
}

// Scan calls fn for the keys in [start, end) in ascending order.
func (s *DiskStorage) Scan(start, end string, fn func(key string, value []byte) bool) {
	var keys []string
	for k := range s.m {
		if ordo.InRange(k, start, end) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !fn(k, s.m[k]) {
			return
		}
	}
}

// Apply performs b's operations in order (not yet atomically: storage v2).
func (s *DiskStorage) Apply(b *ordo.Batch) {
	for _, op := range b.Ops {
		switch op.Kind {
		case ordo.OpPut:
			s.Put(op.Key, op.Value)
		case ordo.OpDelete:
			s.Delete(op.Key)
		case ordo.OpDeleteRange:
			s.DeleteRange(op.Key, op.End)
		}
	}
}
