package passwd

// HoldSlot takes one of h's slots until release is called, for the tests of the wait.
func HoldSlot(h *Hasher) (release func()) {
	h.slots <- struct{}{}
	return func() { <-h.slots }
}
