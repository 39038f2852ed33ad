package policy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// A policy editor's draft is untrusted code: OPA has no memory budget, and one built-in call
// (numbers.range(1, 60000000)) can grow the heap by gigabytes before any deadline fires. So
// drafts are tested and evaluated in a child process, the dutycheck binary started again with
// sandboxEnv set, under an address-space limit (Linux: RLIMIT_AS), a soft memory limit and a
// watchdog (every platform), and a wall-clock deadline after which the parent kills it. A
// child that dies takes only its own memory with it; the service answers 422.

// sandboxEnv, set in a child's environment, makes SandboxMain run the child; its value is the
// child's memory budget in bytes.
const sandboxEnv = "DUTYCHECK_POLICY_SANDBOX"

// exitMemory is the child's exit status when its watchdog finds the memory budget exceeded.
const exitMemory = 86

// memoryMessage is what a child writes on stderr before exiting with exitMemory.
const memoryMessage = "dutycheck policy sandbox: memory budget exceeded"

// Defaults of Limits.
const (
	DefaultMemory   = 1 << 30
	DefaultTimeout  = 60 * time.Second
	DefaultOutput   = 64 << 20
	DefaultChildren = 2
)

// Limits bound the evaluation of policies in a sandbox child.
type Limits struct {
	// Memory is how many bytes a child may grow by (address space on Linux, heap elsewhere);
	// 0 means DefaultMemory.
	Memory int64
	// Timeout is the wall-clock time of a test run, or of one organ's evaluation; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Output is how many bytes one answer of a child may have; 0 means DefaultOutput.
	Output int64
	// Children is how many children may run at once (each holds up to Memory); 0 means
	// DefaultChildren. Requests beyond wait for a slot, or for their context to end.
	Children int
}

func (l Limits) normalize() Limits {
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	if l.Children <= 0 {
		l.Children = DefaultChildren
	}
	return l
}

// ErrBudget is the kind of error of an evaluation stopped by its sandbox's limits.
var ErrBudget = errors.New("policy evaluation exceeded its memory/time budget")

// BudgetError is an evaluation stopped by its sandbox: Resource is "memory", "time" or
// "output". It matches ErrBudget and duty.ErrInvalid (the policy is at fault: 422).
type BudgetError struct {
	Resource string
	Limit    string
	During   string // "running the tests", "evaluating organ ORG-1"
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("policy evaluation exceeded its %s budget (%s) while %s", e.Resource, e.Limit, e.During)
}

// Is makes errors.Is(err, ErrBudget) and errors.Is(err, duty.ErrInvalid) true.
func (e *BudgetError) Is(target error) bool { return target == ErrBudget || target == duty.ErrInvalid }

// Sandbox runs policy tests and evaluations in child processes with bounded memory and time.
// It is safe for concurrent use.
type Sandbox struct {
	exe  string
	args []string
	lim  Limits
	sem  chan struct{}
}

// NewSandbox returns a sandbox that starts exe (the dutycheck binary, os.Executable(); a test
// binary whose TestMain calls SandboxMain) as its children.
func NewSandbox(exe string, lim Limits) *Sandbox {
	lim = lim.normalize()
	// "-test.run=^$" makes a test binary that forgot to call SandboxMain run no test instead
	// of every test; the dutycheck binary never reads it (SandboxMain runs first).
	return &Sandbox{exe: exe, args: []string{"-test.run=^$", "policy-sandbox"}, lim: lim, sem: make(chan struct{}, lim.Children)}
}

// Limits returns the sandbox's limits, defaults filled in.
func (s *Sandbox) Limits() Limits { return s.lim }

// Check is the gate of policy.Check run in a child: compile, require tests, run them. Only a
// bundle that passes there is compiled in this process, and only for evaluation in a
// sandbox or, once activated, for scans.
func (s *Sandbox) Check(ctx context.Context, b *Bundle) (*Engine, []duty.TestResult, error) {
	where := fmt.Sprintf("sandbox %+v", s.lim)
	if e, results, ok := passed.get(b, where); ok {
		return e, results, nil
	}
	release, err := s.slot(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	c, err := s.start()
	if err != nil {
		return nil, nil, err
	}
	defer c.close()
	var ans checkAnswer
	if err := c.call(ctx, s.lim.Timeout, request{Op: "check", Files: b.Files}, &ans, "running the tests"); err != nil {
		return nil, nil, err
	}
	if len(ans.Problems) > 0 {
		return nil, ans.Results, &duty.BundleError{Problems: ans.Problems}
	}
	if ans.Error != "" {
		return nil, ans.Results, fmt.Errorf("policy sandbox: %s", ans.Error)
	}
	e, err := Compile(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	passed.add(where, e, ans.Results)
	return e, ans.Results, nil
}

// Bind returns a copy of e that evaluates in children of the sandbox: each organ's input is
// sent to a child that compiled the same bundle, under the sandbox's limits. Close the copy
// to stop its children.
func (s *Sandbox) Bind(e *Engine) *Engine {
	c := *e
	c.box = &pool{sb: s, files: e.bundle.Files}
	return &c
}

// Close stops the children of an engine returned by Sandbox.Bind; other engines have none.
func (e *Engine) Close() {
	if e.box != nil {
		e.box.close()
	}
}

type request struct {
	Op    string            `json:"op"`              // "check" or "eval"
	Files map[string]string `json:"files,omitempty"` // the bundle
}

type checkAnswer struct {
	Results  []duty.TestResult    `json:"results"`
	Problems []duty.BundleProblem `json:"problems,omitempty"`
	Error    string               `json:"error,omitempty"`
}

type evalRequest struct {
	Input any `json:"input"`
}

type evalAnswer struct {
	Sets     [][]any              `json:"sets,omitempty"`
	Problems []duty.BundleProblem `json:"problems,omitempty"`
	Error    string               `json:"error,omitempty"`
}

// idleTTL is how long an idle child is kept for the next organ or scan of its engine.
const idleTTL = 30 * time.Second

// pool keeps the idle children of one bound engine; a child idle for idleTTL is stopped, so
// that an engine no longer used (a revision replaced) holds no process for long.
type pool struct {
	sb     *Sandbox
	files  map[string]string
	mu     sync.Mutex
	idle   []*child
	closed bool
}

func (p *pool) eval(ctx context.Context, organ string, in ast.Value) ([][]any, error) {
	release, err := p.sb.slot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	c, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := ast.JSON(in)
	if err != nil {
		c.close()
		return nil, err
	}
	input, err := json.Marshal(raw)
	if err != nil {
		c.close()
		return nil, err
	}
	// {"input": …} by hand: json.Marshal of a RawMessage would compact the input once more.
	data := make([]byte, 0, len(input)+10)
	data = append(append(append(data, `{"input":`...), input...), '}')
	var ans evalAnswer
	if err := c.callRaw(ctx, p.sb.lim.Timeout, data, &ans, "evaluating organ "+organ); err != nil {
		return nil, err
	}
	if ans.Error != "" {
		c.close()
		return nil, fmt.Errorf("evaluate organ %q: %s", organ, ans.Error)
	}
	p.put(c)
	return ans.Sets, nil
}

// get takes an idle child or starts one that compiles the bundle.
func (p *pool) get(ctx context.Context) (*child, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("policy sandbox: the engine is closed")
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := p.sb.start()
	if err != nil {
		return nil, err
	}
	var ans evalAnswer
	if err := c.call(ctx, p.sb.lim.Timeout, request{Op: "eval", Files: p.files}, &ans, "compiling the policies"); err != nil {
		return nil, err
	}
	if len(ans.Problems) > 0 || ans.Error != "" {
		c.close()
		if len(ans.Problems) > 0 {
			return nil, &duty.BundleError{Problems: ans.Problems}
		}
		return nil, fmt.Errorf("policy sandbox: %s", ans.Error)
	}
	return c, nil
}

func (p *pool) put(c *child) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.close()
		return
	}
	c.idleSince = time.Now()
	p.idle = append(p.idle, c)
	time.AfterFunc(idleTTL, p.reap)
}

// reap stops the children idle for idleTTL or more.
func (p *pool) reap() {
	p.mu.Lock()
	var stale []*child
	keep := p.idle[:0]
	for _, c := range p.idle {
		if time.Since(c.idleSince) >= idleTTL {
			stale = append(stale, c)
		} else {
			keep = append(keep, c)
		}
	}
	p.idle = keep
	p.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
}

func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// child is one running sandbox process. A child is used by one goroutine at a time.
type child struct {
	sb      *Sandbox
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  *os.File
	out     *limitedReader
	dec     *json.Decoder
	stderr  *headBuffer
	done    chan struct{} // closed when the process has exited
	waitErr error
	once    sync.Once

	idleSince time.Time // guarded by the pool's mu
}

// slot waits for one of the sandbox's Children slots: a slot is held while a child works (a
// test run, one organ), so that at most Children children hold memory at once. Idle children
// hold none: they have collected their garbage, and they stop after idleTTL.
func (s *Sandbox) slot(ctx context.Context) (func(), error) {
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a policy sandbox: %w", ctx.Err())
	}
}

// start starts a child; the caller holds a slot.
func (s *Sandbox) start() (*child, error) {
	if os.Getenv(sandboxEnv) != "" {
		return nil, errors.New("policy sandbox: a sandbox child may not start children")
	}
	cmd := exec.Command(s.exe, s.args...)
	cmd.Env = append(sandboxEnviron(), sandboxEnv+"="+strconv.FormatInt(s.lim.Memory, 10))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Our own pipe, not cmd.StdoutPipe: Wait (in its goroutine, to learn of a crash at once)
	// would close that one under a read still under way.
	stdout, w, err := os.Pipe()
	if err != nil {
		_ = stdin.Close()
		return nil, err
	}
	cmd.Stdout = w
	c := &child{sb: s, cmd: cmd, stdin: stdin, stdout: stdout, stderr: &headBuffer{max: 16 << 10}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = stdin.Close()
		_ = stdout.Close()
		return nil, fmt.Errorf("start the policy sandbox %s: %w: %w", s.exe, err, duty.ErrUnavailable)
	}
	c.out = &limitedReader{r: stdout}
	c.dec = json.NewDecoder(bufio.NewReader(c.out))
	c.dec.UseNumber()
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// sandboxEnviron is the environment a child gets: the parent's, without anything that sets
// Go's own memory limit or its sandbox marker (the child sets its own).
func sandboxEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, sandboxEnv+"=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (c *child) call(ctx context.Context, timeout time.Duration, req any, into any, during string) error {
	data, err := json.Marshal(req)
	if err != nil {
		c.close()
		return err
	}
	return c.callRaw(ctx, timeout, data, into, during)
}

// callRaw sends one request line and reads one answer, within timeout. On any failure the
// child is killed and the error says which budget, if any, it exceeded.
func (c *child) callRaw(ctx context.Context, timeout time.Duration, data []byte, into any, during string) error {
	type result struct{ err error }
	res := make(chan result, 1)
	c.out.reset(c.sb.lim.Output)
	go func() {
		if _, err := c.stdin.Write(append(data, '\n')); err != nil {
			res <- result{err}
			return
		}
		res <- result{c.dec.Decode(into)}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-res:
		if r.err == nil {
			return nil
		}
		c.close()
		return c.failure(r.err, during)
	case <-timer.C:
		c.close()
		<-res
		return &BudgetError{Resource: "time", Limit: timeout.String(), During: during}
	case <-ctx.Done():
		c.close()
		<-res
		return fmt.Errorf("policy sandbox, %s: %w", during, ctx.Err())
	}
}

// failure explains why a child gave no answer.
func (c *child) failure(err error, during string) error {
	if errors.Is(err, errOutput) {
		return &BudgetError{Resource: "output", Limit: fmt.Sprintf("%d MiB", c.sb.lim.Output>>20), During: during}
	}
	<-c.done
	msg := c.stderr.String()
	var ee *exec.ExitError
	if errors.As(c.waitErr, &ee) && ee.ExitCode() == exitMemory || strings.Contains(msg, "out of memory") ||
		strings.Contains(msg, memoryMessage) || strings.Contains(msg, "cannot allocate memory") {
		return &BudgetError{Resource: "memory", Limit: fmt.Sprintf("%d MiB", c.sb.lim.Memory>>20), During: during}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return fmt.Errorf("policy sandbox failed while %s (%v, exit: %v): %s: %w", during, err, c.waitErr, first, duty.ErrInvalid)
}

// close kills the child (when still running) and waits for it.
func (c *child) close() {
	c.once.Do(func() {
		_ = c.stdin.Close()
		_ = c.cmd.Process.Kill()
		<-c.done
		_ = c.stdout.Close()
	})
}

var errOutput = errors.New("policy sandbox: answer too large")

// limitedReader refuses to read more than its budget, reset before each answer.
type limitedReader struct {
	r    io.Reader
	mu   sync.Mutex
	left int64
}

func (l *limitedReader) reset(n int64) {
	l.mu.Lock()
	l.left = n
	l.mu.Unlock()
}

func (l *limitedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	left := l.left
	l.mu.Unlock()
	if left <= 0 {
		return 0, errOutput
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := l.r.Read(p)
	l.mu.Lock()
	l.left -= int64(n)
	l.mu.Unlock()
	return n, err
}

// headBuffer keeps the first max bytes written to it (a crash names its cause first).
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (h *headBuffer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.String()
}

// SandboxMain runs a sandbox child and exits when this process is one (sandboxEnv set);
// otherwise it returns at once. Call it first thing in main, and in TestMain of test packages
// that start sandboxes.
func SandboxMain() {
	v := os.Getenv(sandboxEnv)
	if v == "" {
		return
	}
	budget, err := strconv.ParseInt(v, 10, 64)
	if err != nil || budget <= 0 {
		fmt.Fprintln(os.Stderr, "dutycheck policy sandbox: bad budget", v)
		os.Exit(2)
	}
	os.Exit(runChild(budget, os.Stdin, os.Stdout))
}

// runChild bounds this process's memory, then answers requests until stdin ends.
func runChild(budget int64, stdin io.Reader, stdout io.Writer) int {
	if !raceEnabled {
		if err := limitAddressSpace(budget); err != nil {
			fmt.Fprintln(os.Stderr, "dutycheck policy sandbox: limit memory:", err)
			return 2
		}
	}
	stopWatch := watchMemory(budget)
	defer stopWatch()
	ctx := context.Background()
	dec := json.NewDecoder(bufio.NewReader(stdin))
	dec.UseNumber()
	out := bufio.NewWriter(stdout)
	answer := func(x any) bool {
		data, err := json.Marshal(x)
		if err != nil {
			data, _ = json.Marshal(evalAnswer{Error: "encode the answer: " + err.Error()})
		}
		out.Write(append(data, '\n'))
		return out.Flush() == nil
	}
	var req request
	if err := dec.Decode(&req); err != nil {
		return 0 // the parent went away
	}
	b := &Bundle{Files: req.Files}
	switch req.Op {
	case "check":
		_, results, err := Check(ctx, b)
		ans := checkAnswer{Results: results}
		var be *duty.BundleError
		switch {
		case errors.As(err, &be):
			ans.Problems = be.Problems
		case err != nil:
			ans.Error = err.Error()
		}
		answer(ans)
		return 0
	case "eval":
		e, err := Compile(ctx, b)
		if err != nil {
			var be *duty.BundleError
			if errors.As(err, &be) {
				answer(evalAnswer{Problems: be.Problems})
			} else {
				answer(evalAnswer{Error: err.Error()})
			}
			return 0
		}
		if !answer(evalAnswer{}) {
			return 0
		}
		for {
			var er evalRequest
			if err := dec.Decode(&er); err != nil {
				return 0
			}
			in, err := ast.InterfaceToValue(er.Input)
			if err != nil {
				answer(evalAnswer{Error: "decode the input: " + err.Error()})
				continue
			}
			sets, err := e.evalLocal(ctx, in)
			if err != nil {
				answer(evalAnswer{Error: err.Error()})
				continue
			}
			if !answer(evalAnswer{Sets: sets}) {
				return 0
			}
		}
	}
	answer(evalAnswer{Error: "unknown operation " + strconv.Quote(req.Op)})
	return 0
}

// evalLocal evaluates the prepared query in this process and returns each policy's violation
// set, in metas order, then each policy's warning set (nil for a policy without warnings).
func (e *Engine) evalLocal(ctx context.Context, in ast.Value) ([][]any, error) {
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(in))
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("the policy query gave %d results, want 1", len(rs))
	}
	sets := make([][]any, 2*len(e.metas))
	for i := range e.metas {
		sets[i], _ = rs[0].Bindings[e.vars[i]].([]any)
		if e.wvars[i] != "" {
			sets[len(e.metas)+i], _ = rs[0].Bindings[e.wvars[i]].([]any)
		}
	}
	return sets, nil
}
