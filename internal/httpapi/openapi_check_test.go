package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/dutycheck/dutycheck/internal/httpapi"
)

// The OpenAPI document, loaded and validated once for every test of the package.
var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func loadSpec(tb testing.TB) (*openapi3.T, routers.Router) {
	tb.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		specDoc, specErr = loader.LoadFromData(httpapi.OpenAPIDocument)
		if specErr != nil {
			specErr = fmt.Errorf("load: %w", specErr)
			return
		}
		if !specDoc.IsOpenAPI31OrLater() {
			specErr = fmt.Errorf("openapi %q, want 3.1", specDoc.OpenAPI)
			return
		}
		if specErr = specDoc.Validate(loader.Context); specErr != nil {
			specErr = fmt.Errorf("validate: %w", specErr)
			return
		}
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	if specErr != nil {
		tb.Fatalf("internal/httpapi/openapi.json: %v", specErr)
	}
	return specDoc, specRouter
}

// validatedOps holds the operations ("GET /api/v1/scans/{id}") of which a successful (2xx)
// answer passed the check, so that TestMain can show that every operation was checked.
var validatedOps sync.Map

// checkAnswer validates one answer (status, headers, content type and body) to req against
// the document. An answer to a path or method the document does not have is not checked
// here (TestOpenAPICoversTheRouter keeps the two lists equal; unknown paths answer 404 from
// NoRoute). It reports whether the answer was checked.
func checkAnswer(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) (bool, error) {
	_, router := loadSpec(tb)
	route, params, err := router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return true, err
	}
	if status < 300 {
		validatedOps.Store(route.Method+" "+route.Path, true)
	}
	return true, nil
}

// validated wraps the API's handler h so that every answer to a documented operation is
// validated against the OpenAPI document before the client gets it; a mismatch fails tb.
// Answers to requests whose client has gone (a cancelled context, answered 499) are not
// checked: nobody reads them.
func validated(tb testing.TB, h http.Handler) http.Handler {
	loadSpec(tb)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if r.Context().Err() == nil {
			// FindRoute matches on the path: a server request has no scheme or host.
			check := r.Clone(context.Background())
			check.Body = io.NopCloser(bytes.NewReader(nil))
			if _, err := checkAnswer(tb, check, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
				tb.Errorf("%s %s answered %d, which internal/httpapi/openapi.json does not allow:\n%v\nbody: %.600s",
					r.Method, r.URL.RequestURI(), rec.Code, err, rec.Body.String())
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// ginPath turns gin's /scans/:id into the document's /scans/{id}.
func ginPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestMain runs the tests and then, when all of them ran (no -run or -skip filter) and passed,
// fails unless every operation of the document had a successful answer validated against it
// by some test.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code != 0 || specDoc == nil || flag.Lookup("test.run").Value.String() != "" || flag.Lookup("test.skip").Value.String() != "" {
		os.Exit(code)
	}
	var unchecked []string
	for path, item := range specDoc.Paths.Map() {
		for method := range item.Operations() {
			if _, ok := validatedOps.Load(method + " " + path); !ok {
				unchecked = append(unchecked, method+" "+path)
			}
		}
	}
	if len(unchecked) > 0 {
		slices.Sort(unchecked)
		fmt.Fprintf(os.Stderr, "FAIL: no test of internal/httpapi had a successful answer of these operations validated against openapi.json "+
			"(call them through a handler wrapped by validated, e.g. in TestOpenAPITour):\n  %s\n", strings.Join(unchecked, "\n  "))
		os.Exit(1)
	}
	os.Exit(code)
}
