package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/httpapi"
)

const batchMiB = 30

// bigBatch is a JSON array of about size bytes of people whose department does not exist.
func bigBatch(size int) []byte {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"id": "P-%d", "name": "张三", "department_id": "NOWHERE", "rank": "staff", "roles": [], "active": true}`, i)
	}
	b.WriteString("\n]")
	return b.Bytes()
}

// TestBigBatchRefused: a 30 MiB batch is parsed and refused (it was quadratic: minutes), and
// the answer lists a bounded number of problems.
func TestBigBatchRefused(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("30 MiB batch")
	}
	e := newAuthEnv(t, nil)
	body := bigBatch(batchMiB << 20)
	req, _ := http.NewRequest("PUT", e.srv.URL+"/api/v1/collections/people", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Error struct {
			Message  string
			Problems []json.RawMessage
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnprocessableEntity || len(got.Error.Problems) != 1000 || !strings.Contains(got.Error.Message, "first 1000 of") {
		t.Errorf("30 MiB batch: %d, %d problems, %q; want 422 with the first 1000", resp.StatusCode, len(got.Error.Problems), got.Error.Message)
	}
}

// TestBatchCancelled: when the client has gone away the batch is not decoded to the end nor
// written.
func TestBatchCancelled(t *testing.T) {
	t.Parallel()
	e := newAuthEnv(t, nil)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := validated(t, httpapi.New(httpapi.Config{Log: quiet}, httpapi.Deps{Store: e.fake}))
	body := []byte(`[{"id": "ORG-9", "name": "x", "kind": "organ"}]`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("PUT", "/api/v1/collections/departments", bytes.NewReader(body)).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		t.Fatalf("a cancelled batch was written: %d %s", rec.Code, rec.Body)
	}
	if _, err := e.fake.Get(context.Background(), "departments", "ORG-9"); err == nil {
		t.Errorf("the record of a cancelled batch is stored")
	}
}
