package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dutycheck/dutycheck/internal/duty"
	"github.com/dutycheck/dutycheck/internal/httpapi"
)

// TestFailStatusIsTheAPIs: an error page answers the status the API answers for the same kind
// of error (httpapi.StatusOf, one table): a passed deadline 504 and a client gone 499, as in the
// API (they were 503 on the pages before); the page's own refusals stay 403.
func TestFailStatusIsTheAPIs(t *testing.T) {
	t.Parallel()
	h := New(Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{}).(*handler)
	for _, tc := range []struct {
		err    error
		status int
		text   string
	}{
		{fmt.Errorf("scan: %w", context.DeadlineExceeded), http.StatusGatewayTimeout, "处理时间超过上限"},
		{fmt.Errorf("scan: %w", context.Canceled), httpapi.StatusClientClosed, "请求已取消"},
		{fmt.Errorf("x: %w", duty.ErrUnavailable), http.StatusServiceUnavailable, "数据库暂时不可用"},
		{fmt.Errorf("record x: %w", duty.ErrNotFound), http.StatusNotFound, "没有找到"},
		{fmt.Errorf("batch says why: %w", duty.ErrInvalid), http.StatusUnprocessableEntity, "batch says why"},
		{fmt.Errorf("still named: %w", duty.ErrConflict), http.StatusConflict, "still named"},
		{fmt.Errorf("x: %w", duty.ErrBusy), http.StatusTooManyRequests, "同时进行的检查已达上限"},
		{errors.New("secret detail"), http.StatusInternalServerError, "服务器内部错误"},
		{errCSRF, http.StatusForbidden, "表单已失效"},
		{errForbidden, http.StatusForbidden, "无权"},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			if status, _ := httpapi.StatusOf(tc.err); status != tc.status && !errors.Is(tc.err, errCSRF) && !errors.Is(tc.err, errForbidden) {
				t.Errorf("the API answers %d, the test expects %d", status, tc.status)
			}
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/x", nil)
			h.fail(&request{w: w, r: r, ctx: r.Context(), lang: langZH}, tc.err)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.text) {
				t.Errorf("page %d, want %d with %q", w.Code, tc.status, tc.text)
			}
			if strings.Contains(w.Body.String(), "secret detail") {
				t.Error("an internal error's text is shown")
			}
		})
	}
}
