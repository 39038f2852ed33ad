package store

import "testing"

// TestShardOfIsStable: the shard of an organ is part of the stored layout; a change of the
// hash would look for every organ's tables in the wrong database. The values are FNV-1a (32
// bits) modulo 32, worked out apart from Go.
func TestShardOfIsStable(t *testing.T) {
	for organ, want := range map[string]int{"ORG-A": 7, "ORG-B": 26, "G0001": 25, "-": 24, "机关": 6} {
		if got := shardOf(organ); got != want {
			t.Errorf("shardOf(%q) = %d, want %d", organ, got, want)
		}
	}
	if got := shardName("dutycheck", 7); got != "dutycheck_s07" {
		t.Errorf("shardName = %q", got)
	}
}
