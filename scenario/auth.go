package scenario

import (
	"fmt"
	"slices"
	"strings"

	"ordo/sim"
)

// SetAuth makes the scenario's authenticated links authenticate with mode
// (sim.AuthMAC or sim.AuthEd25519; `ordo sim --auth`). Errors: an unknown
// mode, links the file does not authenticate, ed25519 with wire: false.
func (sc *Scenario) SetAuth(mode string) error {
	if err := sc.checkAuth(mode); err != nil {
		return err
	}
	sc.Network.Auth = mode
	return nil
}

// checkAuth says why mode cannot authenticate this scenario's links.
func (sc *Scenario) checkAuth(mode string) error {
	switch {
	case !slices.Contains(sim.AuthModes, mode):
		return fmt.Errorf("unknown authentication %q (valid: %s)", mode, strings.Join(sim.AuthModes, ", "))
	case !sc.Network.Authenticated:
		return fmt.Errorf("%s is how authenticated links authenticate, and this file does not say authenticated: true", mode)
	case mode == sim.AuthEd25519 && !sc.Wire:
		return fmt.Errorf("ed25519 signs the encoded bytes, and this file says wire: false")
	}
	return nil
}
