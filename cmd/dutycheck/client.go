package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dutycheck/dutycheck/internal/httpapi"
)

// callError is a non-2xx answer of the service: its status, error code and message.
type callError struct {
	status int
	code   string
	msg    string
}

func (e *callError) Error() string { return e.msg }

// apiClient talks to a running `dutycheck serve`.
type apiClient struct {
	server string
	token  string
	http   *http.Client
}

func clientFlags(fs *flag.FlagSet) *apiClient {
	c := &apiClient{http: &http.Client{Timeout: 10 * time.Minute}}
	server := os.Getenv("DUTYCHECK_SERVER")
	if server == "" {
		server = "http://127.0.0.1:8080"
	}
	fs.StringVar(&c.server, "server", server, "URL of the dutycheck service (env DUTYCHECK_SERVER)")
	fs.StringVar(&c.token, "token", os.Getenv("DUTYCHECK_TOKEN"), "bearer token (env DUTYCHECK_TOKEN)")
	return c
}

// call sends a JSON request and decodes a JSON answer; a non-2xx answer is an error carrying the
// service's message and problems.
func (c *apiClient) call(ctx context.Context, method, path string, body, into any) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.server, "/")+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", httpapi.CLIUserAgent) // the service records the revisions it makes as "cli"
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code     string            `json:"code"`
				Message  string            `json:"message"`
				Problems []json.RawMessage `json:"problems"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			return &callError{status: resp.StatusCode, msg: fmt.Sprintf("%s %s: %s", method, path, resp.Status)}
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s (%s)", e.Error.Message, resp.Status)
		for _, p := range e.Error.Problems {
			var pr struct {
				File, Message, Field, ID string
				Row, Col, Index          int
			}
			_ = json.Unmarshal(p, &pr)
			switch {
			case pr.File != "" && pr.Row > 0:
				fmt.Fprintf(&sb, "\n  %s:%d:%d: %s", pr.File, pr.Row, pr.Col, pr.Message)
			case pr.File != "":
				fmt.Fprintf(&sb, "\n  %s: %s", pr.File, pr.Message)
			default:
				fmt.Fprintf(&sb, "\n  document %d %s %s: %s", pr.Index, pr.ID, pr.Field, pr.Message)
			}
		}
		return &callError{status: resp.StatusCode, code: e.Error.Code, msg: sb.String()}
	}
	if into != nil {
		return json.Unmarshal(data, into)
	}
	return nil
}
