package embeddb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dutycheck/dutycheck/internal/embeddb"
)

// A second store on the same folder is refused while the first runs, and allowed once it is
// closed: the lock is the folder's, not a guess from timestamps.
func TestSecondStoreOnTheSameFolderIsRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := embeddb.Start(ctx, embeddb.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	second, err := embeddb.Start(ctx, embeddb.Config{Dir: dir})
	if !errors.Is(err, embeddb.ErrInUse) {
		if second != nil {
			second.Close()
		}
		first.Close()
		t.Fatalf("second Start on the same folder: err = %v, want ErrInUse", err)
	}
	t.Logf("refused with: %v", err)
	first.Close()
	third, err := embeddb.Start(ctx, embeddb.Config{Dir: dir})
	if err != nil {
		t.Fatalf("Start after the first closed: %v", err)
	}
	third.Close()
}
