package sim

import (
	"math/rand/v2"
	"reflect"

	"ordo"
)

// TamperFields returns a copy of m with one exported integer, bool or string
// field changed: a man in the middle rewriting a message (fallacy 4). A
// message with no such field is returned unchanged.
func TamperFields(m ordo.Message, r *rand.Rand) ordo.Message {
	v := reflect.ValueOf(m)
	ptr := false
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return m
		}
		v, ptr = v.Elem(), true
	}
	if v.Kind() != reflect.Struct {
		return m
	}
	cp := reflect.New(v.Type()).Elem()
	cp.Set(v)
	var fields []int
	for i := 0; i < cp.NumField(); i++ {
		f := cp.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Bool, reflect.String:
			fields = append(fields, i)
		}
	}
	if len(fields) == 0 {
		return m
	}
	f := cp.Field(fields[r.IntN(len(fields))])
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.String:
		f.SetString(f.String() + "!")
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.SetUint(f.Uint() + 1 + uint64(r.IntN(7)))
	default:
		f.SetInt(f.Int() + 1 + int64(r.IntN(7)))
	}
	if ptr {
		p := reflect.New(v.Type())
		p.Elem().Set(cp)
		return p.Interface().(ordo.Message)
	}
	return cp.Interface().(ordo.Message)
}
