package main

// Every protocol package registers itself with ordo.Register in init; the
// binary imports them all here for that side effect.
import ()
