package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Reports live in a table per organ and three collections, whatever the number of scans:
//
//   - report_organ.<organ> (findingsPrefix), in the organ's shard database (shards.go), holds
//     the findings (violations, warnings, waived violations) of the organ's evaluations by
//     department, in chunk documents "<scan>/<organ>/<i>" of at most chunkSize findings: the
//     departments in order, packed, a department with more than a chunk's worth filling chunks
//     of its own; per scan the departments each chunk holds ("<scan>/~o"); and the checks a
//     scan resolved in departments of the organ ("<scan>/~r/<i>").
//   - report_heads holds per scan its index ("<scan>": where each organ's findings are, the
//     organs whose departments another organ's findings name, the resolved chunks).
//   - report_counts holds per scan its per-department counts ("<scan>/~d").
//   - report_latest holds, per scope, the scan a report of that scope shows ("latest/<scope>").
//
// The embedded store (FerretDB v1 on SQLite) pushes only _id equality down and filters
// everything else in Go after reading the whole table, so every read of a page or an API call
// is a handful of _id lookups: the scope's pointer, the scan's index, the summaries of the
// organs it needs and the chunks of the departments it shows. "~" is not allowed in an id
// (duty.CheckID), so the keys of a scan never collide with an organ's or department's.
//
// A scan writes each organ's chunks as soon as the organ is evaluated (PutOrganReport); a
// re-scan that reuses an organ's results (same records, policies and as-of date) points to the
// chunks of the earlier scan (OrganResult.Source) instead of writing them again. At the end
// (FinishIndexedScan) it writes its summaries, then marks itself done (the commit point), then
// moves its scope's pointer; the pointers are recomputed from the scans at every start, so a
// crash between the last two writes leaves nothing wrong. What a scan that never finished wrote
// is removed by the retention (Prune), as are the findings of scans past the retention.
//
// Scans stored by the previous layout (format 2: a table "report.<id>" and an index
// "report_index.<id>" per scan) are moved into this one at start (migrateReports).

const (
	reportFormat       = 3
	legacyReportFormat = 2
	// findingsPrefix names the table of an organ's findings, of every scan kept.
	findingsPrefix     = "report_organ."
	headsColl          = "report_heads"
	countsColl         = "report_counts"
	latestColl         = "report_latest"
	legacyReportPrefix = "report."
	legacyIndexPrefix  = "report_index."
)

// Kinds of report_summaries documents.
const (
	kindHead  = "head"
	kindOrgan = "organ"
	kindDepts = "depts"
	kindTrend = "trend"
)

// OrganResult says where the findings of one organ in a scan are kept.
type OrganResult struct {
	Organ string `bson:"o"`
	// Version is the organ's version the findings were computed from; -1 when they must not
	// be reused (the organ was being written while the scan read it).
	Version int64 `bson:"v"`
	// Source is the scan that wrote the findings.
	Source string `bson:"s"`
	// Count is the number of violations; Chunks the number of chunk documents (0: nothing
	// found, not even a warning).
	Count  int `bson:"n"`
	Chunks int `bson:"c"`
	// Foreign lists the other organs whose departments these findings name (an appointment
	// is evaluated with its person's organ but reported under its own department).
	Foreign []string `bson:"f,omitempty"`
}

// OrganReport is what a scan found for one organ.
type OrganReport struct {
	Violations []duty.Violation
	Warnings   []duty.Warning
	Waived     []duty.Waived
}

type reportChunk struct {
	ID    string `bson:"_id"`
	Scan  string `bson:"scan"`
	Organ string `bson:"organ"`
	// Departments lists the departments whose findings the chunk holds.
	Departments []string         `bson:"departments"`
	Violations  []duty.Violation `bson:"violations,omitempty"`
	Warnings    []duty.Warning   `bson:"warnings,omitempty"`
	Waived      []duty.Waived    `bson:"waived,omitempty"`
	Resolved    []duty.Violation `bson:"resolved,omitempty"`
}

// keyChunks is a key (a department, or an organ) and how many chunks it has.
type keyChunks struct {
	Key    string `bson:"k"`
	Chunks int    `bson:"c"`
}

type organDoc struct {
	ID    string `bson:"_id"`
	Kind  string `bson:"kind"`
	Scan  string `bson:"scan"`
	Organ string `bson:"organ"`
	// Chunks lists, for each chunk, the departments whose findings it holds (a document per
	// chunk: FerretDB refuses nested arrays).
	Chunks []chunkDepts `bson:"chunks"`
}

type chunkDepts struct {
	Departments []string `bson:"d"`
}

type headDoc struct {
	ID      string        `bson:"_id"`
	Kind    string        `bson:"kind"`
	Scan    string        `bson:"scan"`
	Entries []OrganResult `bson:"entries"`
	// Resolved: organ → chunks of resolved checks.
	Resolved []keyChunks `bson:"resolved"`
	// Waived are the violations approved waivers set aside in this scan (few: waivers are the
	// exception). The organs' chunks keep every violation the policies found, since later scans
	// reuse them and other waivers may apply to those; reading a report takes these out of its
	// violations (applyWaived).
	Waived []duty.Waived `bson:"waived,omitempty"`
}

// Count is a key and a number (duty.Count).
type Count = duty.Count

// DepartmentCounts summarises one department's own findings in a scan (duty.DepartmentCounts).
type DepartmentCounts = duty.DepartmentCounts

type deptsDoc struct {
	ID    string             `bson:"_id"`
	Kind  string             `bson:"kind"`
	Scan  string             `bson:"scan"`
	Depts []DepartmentCounts `bson:"depts"`
}

// latestDoc points to the scan a report of a scope shows.
type latestDoc struct {
	ID             string `bson:"_id"`
	Scope          string `bson:"scope"`
	Scan           string `bson:"scan"`
	AsOf           string `bson:"as_of"`
	FinishedAt     string `bson:"finished_at"`
	PolicyRevision string `bson:"policy_revision"`
	GeneratedAt    string `bson:"generated_at"`
}

func findingKey(scan, organ string, i int) string {
	return scan + "/" + organ + "/" + strconv.Itoa(i)
}
func resolvedKey(scan string, i int) string {
	return scan + "/~r/" + strconv.Itoa(i)
}
func organKey(scan string) string   { return scan + "/~o" }
func deptsKey(scan string) string   { return scan + "/~d" }
func latestKey(scope string) string { return "latest/" + scope }

// noOrgan keys the resolved checks of a department no longer in the tree.
const noOrgan = "-"

// organOf returns the organ of a department, noOrgan when unknown.
func organOf(tree *duty.Tree, dept string) string {
	if tree.Department(dept) == nil {
		return noOrgan
	}
	if o := tree.Organ(dept); o != "" {
		return o
	}
	return noOrgan
}

func (s *Store) tree(ctx context.Context) (*duty.Tree, error) {
	return s.Tree(ctx)
}

// PutOrganViolations stores the violations of one organ found by scan scanID and returns its
// entry in the scan's index.
func (s *Store) PutOrganViolations(ctx context.Context, scanID, organ string, version int64, vs []duty.Violation) (OrganResult, error) {
	return s.PutOrganReport(ctx, scanID, organ, version, OrganReport{Violations: vs})
}

// PutOrganReport stores what scan scanID found for one organ, by department, and returns its
// entry in the scan's index.
func (s *Store) PutOrganReport(ctx context.Context, scanID, organ string, version int64, rep OrganReport) (OrganResult, error) {
	r := OrganResult{Organ: organ, Version: version, Source: scanID, Count: len(rep.Violations)}
	tree, err := s.tree(ctx)
	if err != nil {
		return r, err
	}
	type parts struct {
		vs []duty.Violation
		ws []duty.Warning
		wv []duty.Waived
	}
	by := map[string]*parts{}
	get := func(d string) *parts {
		p := by[d]
		if p == nil {
			p = &parts{}
			by[d] = p
		}
		return p
	}
	for _, v := range rep.Violations {
		get(v.Department).vs = append(get(v.Department).vs, v)
	}
	for _, w := range rep.Warnings {
		get(w.Department).ws = append(get(w.Department).ws, w)
	}
	for _, w := range rep.Waived {
		get(w.Department).wv = append(get(w.Department).wv, w)
	}

	// Departments in order, packed into chunks of at most chunkSize findings; a department
	// with more fills chunks of its own. A department's report reads the chunks that hold its
	// departments: one for most, however many departments the organ has.
	foreign := map[string]bool{}
	od := organDoc{ID: organKey(scanID), Kind: kindOrgan, Scan: scanID, Organ: organ}
	var ids []string
	var docs []any
	cur := reportChunk{Scan: scanID, Organ: organ}
	size := 0
	flush := func() {
		if size == 0 {
			return
		}
		cur.ID = findingKey(scanID, organ, len(docs))
		ids, docs = append(ids, cur.ID), append(docs, cur)
		od.Chunks = append(od.Chunks, chunkDepts{Departments: cur.Departments})
		cur, size = reportChunk{Scan: scanID, Organ: organ}, 0
	}
	for _, d := range sortedKeys(by) {
		p := by[d]
		if o := organOf(tree, d); o != organ {
			foreign[o] = true
		}
		if n := len(p.vs) + len(p.ws) + len(p.wv); size > 0 && size+n > chunkSize {
			flush()
		}
		for len(p.vs)+len(p.ws)+len(p.wv) > 0 {
			room := chunkSize - size
			if len(cur.Departments) == 0 || cur.Departments[len(cur.Departments)-1] != d {
				cur.Departments = append(cur.Departments, d)
			}
			k := min(room, len(p.vs))
			cur.Violations, p.vs, room = append(cur.Violations, p.vs[:k]...), p.vs[k:], room-k
			k = min(room, len(p.ws))
			cur.Warnings, p.ws, room = append(cur.Warnings, p.ws[:k]...), p.ws[k:], room-k
			k = min(room, len(p.wv))
			cur.Waived, p.wv, room = append(cur.Waived, p.wv[:k]...), p.wv[k:], room-k
			size = chunkSize - room
			if size == chunkSize {
				flush()
			}
		}
	}
	flush()
	for o := range foreign {
		r.Foreign = append(r.Foreign, o)
	}
	slices.Sort(r.Foreign)
	r.Chunks = len(docs)
	if len(docs) == 0 {
		return r, nil
	}
	if err := insertOrReplace(ctx, s.findingsColl(organ), append(ids, od.ID), append(docs, od)); err != nil {
		return r, fmt.Errorf("save report of scan %s: %w", scanID, err)
	}
	return r, nil
}

func chunksOf(n int) int { return (n + chunkSize - 1) / chunkSize }

// keepFindings keeps the findings of the departments in keep (all when keep is nil).
func keepFindings(c *reportChunk, keep map[string]bool) {
	if keep == nil {
		return
	}
	in := func(v *duty.Violation) bool { return keep[v.Department] }
	c.Violations = slices.DeleteFunc(c.Violations, func(v duty.Violation) bool { return !in(&v) })
	c.Warnings = slices.DeleteFunc(c.Warnings, func(w duty.Warning) bool { return !in(&w.Violation) })
	c.Waived = slices.DeleteFunc(c.Waived, func(w duty.Waived) bool { return !in(&w.Violation) })
}

func part[T any](xs []T, i int) []T {
	if i*chunkSize >= len(xs) {
		return nil
	}
	return xs[i*chunkSize : min((i+1)*chunkSize, len(xs))]
}

// FinishIndexedScan stores the summaries and the index of a scan whose organs' findings were
// stored with PutOrganReport (or reused from earlier scans), and the checks it resolved; then
// marks the scan done and makes it its scope's latest report when it is. keyHash identifies the
// set of departments the scan reported on (see ScanMeta.ScopeHash).
func (s *Store) FinishIndexedScan(ctx context.Context, sc *duty.Scan, results []OrganResult, keyHash string) error {
	organs, err := s.writeSummaries(ctx, sc, results)
	if err != nil {
		return err
	}
	if err := s.hook("scan.before-done"); err != nil {
		return err
	}
	if err := s.markDone(ctx, sc, keyHash, organs, ownedScan(sc.ID, s.instance)); err != nil {
		return err
	}
	return s.moveLatest(ctx, sc)
}

// writeSummaries writes the resolved chunks and the summary documents of a finished scan.
func (s *Store) writeSummaries(ctx context.Context, sc *duty.Scan, results []OrganResult) ([]Count, error) {
	rep := sc.Report
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	// Resolved checks, by the organ of their department, in that organ's table.
	byOrgan := map[string][]duty.Violation{}
	for _, v := range rep.Resolved {
		o := organOf(tree, v.Department)
		byOrgan[o] = append(byOrgan[o], v)
	}
	head := headDoc{ID: sc.ID, Kind: kindHead, Scan: sc.ID, Entries: results, Waived: rep.Waived}
	for _, o := range sortedKeys(byOrgan) {
		vs := byOrgan[o]
		n := chunksOf(len(vs))
		var ids []string
		var docs []any
		for i := range n {
			c := reportChunk{ID: resolvedKey(sc.ID, i), Scan: sc.ID, Organ: o, Departments: []string{}, Resolved: part(vs, i)}
			ids, docs = append(ids, c.ID), append(docs, c)
		}
		if err := insertOrReplace(ctx, s.findingsColl(o), ids, docs); err != nil {
			return nil, fmt.Errorf("save report of scan %s: %w", sc.ID, err)
		}
		head.Resolved = append(head.Resolved, keyChunks{Key: o, Chunks: n})
	}
	if head.Entries == nil {
		head.Entries = []OrganResult{}
	}
	depts, organs := countDepartments(tree, rep)
	if err := insertOrReplace(ctx, s.db.Collection(headsColl), []string{head.ID}, []any{head}); err != nil {
		return nil, fmt.Errorf("save the index of scan %s: %w", sc.ID, err)
	}
	d := deptsDoc{ID: deptsKey(sc.ID), Kind: kindDepts, Scan: sc.ID, Depts: depts}
	if err := insertOrReplace(ctx, s.db.Collection(countsColl), []string{d.ID}, []any{d}); err != nil {
		return nil, fmt.Errorf("save the summaries of scan %s: %w", sc.ID, err)
	}
	return organs, nil
}

// countDepartments summarises a report by department, and its violations by organ.
func countDepartments(tree *duty.Tree, rep *duty.Report) ([]DepartmentCounts, []Count) {
	by := map[string]*DepartmentCounts{}
	policies := map[string]map[string]int{}
	get := func(d string) *DepartmentCounts {
		c := by[d]
		if c == nil {
			c = &DepartmentCounts{Department: d}
			by[d] = c
		}
		return c
	}
	organs := map[string]int{}
	for _, v := range rep.Violations {
		c := get(v.Department)
		c.Violations++
		if c.BySeverity == nil {
			c.BySeverity = map[string]int{}
		}
		c.BySeverity[v.Severity]++
		if policies[v.Department] == nil {
			policies[v.Department] = map[string]int{}
		}
		policies[v.Department][v.Policy]++
		if v.FirstSeen == nil || v.FirstSeen.ScanID == rep.ScanID {
			c.New++
		} else {
			c.Persisting++
		}
		organs[organOf(tree, v.Department)]++
	}
	for _, v := range rep.Resolved {
		get(v.Department).Resolved++
	}
	for _, w := range rep.Warnings {
		get(w.Department).Warnings++
	}
	for _, w := range rep.Waived {
		get(w.Department).Waived++
	}
	out := make([]DepartmentCounts, 0, len(by))
	for _, d := range sortedKeys(by) {
		c := by[d]
		for _, p := range sortedKeys(policies[d]) {
			c.ByPolicy = append(c.ByPolicy, Count{Key: p, N: policies[d][p]})
		}
		out = append(out, *c)
	}
	trend := make([]Count, 0, len(organs))
	for _, o := range sortedKeys(organs) {
		trend = append(trend, Count{Key: o, N: organs[o]})
	}
	return out, trend
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// markDone marks a scan done: the commit point of its report.
// filter selects the scan: for a scan finishing, only while it runs under this process, so that
// a process taken for dead whose scan another took over does not mark it.
func (s *Store) markDone(ctx context.Context, sc *duty.Scan, keyHash string, organs []Count, filter bson.D) error {
	rep := sc.Report
	sum, err := encodeSummary(rep.Summary)
	if err != nil {
		return fmt.Errorf("encode summary of scan %s: %w", sc.ID, err)
	}
	res, err := s.db.Collection(scansColl).UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: duty.ScanDone},
		{Key: "progress", Value: sc.Progress},
		{Key: "policy_revision", Value: rep.PolicyRevision},
		{Key: "finished_at", Value: sc.FinishedAt},
		{Key: "summary_json", Value: sum},
		{Key: "format", Value: reportFormat},
		{Key: "scope_hash", Value: keyHash},
		{Key: "generated_at", Value: rep.GeneratedAt},
		{Key: "organ_counts", Value: organs},
		{Key: "updated_at", Value: s.stamp()},
	}}})
	if err != nil {
		return fmt.Errorf("finish scan %s: %w", sc.ID, unavailable(err))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("finish scan %s: it is no longer running in this process (another took it over, or failed it): %w", sc.ID, duty.ErrConflict)
	}
	return nil
}

// later reports whether a is a later report than b (duty.LatestReport.Later).
func later(a, b *latestDoc) bool { return a.report().Later(b.report()) }

// report is the latest report the document names.
func (l *latestDoc) report() duty.LatestReport {
	return duty.LatestReport{Scope: l.Scope, ScanID: l.Scan, AsOf: l.AsOf, FinishedAt: l.FinishedAt,
		PolicyRevision: l.PolicyRevision, GeneratedAt: l.GeneratedAt}
}

// moveLatest points the scan's scope to it when it is the scope's latest report.
func (s *Store) moveLatest(ctx context.Context, sc *duty.Scan) error {
	s.latestMu.Lock()
	defer s.latestMu.Unlock()
	d := &latestDoc{ID: latestKey(sc.Department), Scope: sc.Department, Scan: sc.ID, AsOf: sc.AsOf, FinishedAt: sc.FinishedAt,
		PolicyRevision: sc.Report.PolicyRevision, GeneratedAt: sc.Report.GeneratedAt}
	var cur latestDoc
	err := s.db.Collection(latestColl).FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&cur)
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return fmt.Errorf("read the latest report of %q: %w", sc.Department, unavailable(err))
	case !later(d, &cur):
		return nil
	}
	_, err = s.db.Collection(latestColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record the latest report of %q: %w", sc.Department, unavailable(err))
	}
	return nil
}

// rebuildLatest recomputes every scope's pointer from the done scans.
func (s *Store) rebuildLatest(ctx context.Context) error {
	s.latestMu.Lock()
	defer s.latestMu.Unlock()
	cur, err := s.db.Collection(scansColl).Find(ctx, bson.D{{Key: "status", Value: duty.ScanDone}},
		options.Find().SetProjection(bson.D{{Key: "summary_json", Value: 0}}))
	if err != nil {
		return fmt.Errorf("read scans: %w", unavailable(err))
	}
	best := map[string]*latestDoc{}
	for cur.Next(ctx) {
		var d scanDoc
		if err := cur.Decode(&d); err != nil {
			cur.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("decode scan: %w", err)
		}
		if d.Format != reportFormat {
			continue
		}
		l := &latestDoc{ID: latestKey(d.Department), Scope: d.Department, Scan: d.ID, AsOf: d.AsOf, FinishedAt: d.FinishedAt,
			PolicyRevision: d.PolicyRevision, GeneratedAt: d.Generated}
		if b := best[d.Department]; b == nil || later(l, b) {
			best[d.Department] = l
		}
	}
	err = cur.Err()
	cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("read scans: %w", unavailable(err))
	}
	have := map[string]latestDoc{}
	cur, err = s.db.Collection(latestColl).Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read the latest reports: %w", unavailable(err))
	}
	for cur.Next(ctx) {
		var l latestDoc
		if cur.Decode(&l) == nil {
			have[l.ID] = l
		}
	}
	// A pointer not read would be neither checked nor removed.
	err = cur.Err()
	cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("read the latest reports: %w", unavailable(err))
	}
	for _, l := range best {
		if h, ok := have[l.ID]; ok && h == *l {
			delete(have, l.ID)
			continue
		}
		delete(have, l.ID)
		if _, err := s.db.Collection(latestColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: l.ID}}, l, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("record the latest reports: %w", unavailable(err))
		}
	}
	for id := range have {
		if _, err := s.db.Collection(latestColl).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
			return fmt.Errorf("record the latest reports: %w", unavailable(err))
		}
	}
	return nil
}

// latest returns the latest report's pointer among scopes; duty.ErrNotFound when none.
func (s *Store) latest(ctx context.Context, scopes []string) (*latestDoc, error) {
	var best *latestDoc
	for _, sc := range scopes {
		var l latestDoc
		err := s.db.Collection(latestColl).FindOne(ctx, bson.D{{Key: "_id", Value: latestKey(sc)}}).Decode(&l)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the latest report of %q: %w", sc, unavailable(err))
		}
		if best == nil || later(&l, best) {
			best = &l
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no finished scan covers %v: %w", scopes, duty.ErrNotFound)
	}
	return best, nil
}

// ScanMeta is what a new scan needs to know of an earlier one to compare with it and reuse its
// results.
type ScanMeta struct {
	ID, AsOf, PolicyRevision string
	// Department is the scan's scope, "" for the whole store.
	Department string
	// ScopeHash identifies the departments the scan reported on.
	ScopeHash string
	// Indexed is true for scans whose findings are kept (not pruned by the retention).
	Indexed bool
}

// PreviousScanMeta returns, without its report, the done scan a new scan at asOf over one of
// scopes compares with: among the done scans of those scopes ("" is the whole store) with an
// as-of date on or before asOf, the latest as-of date, and of those the last finished.
// duty.ErrNotFound when there is none. A scan never compares with a later date's report, so it
// never claims as resolved what was found only after its date, and a first_seen it inherits is
// never after its own as-of date.
func (s *Store) PreviousScanMeta(ctx context.Context, scopes []string, asOf string) (*ScanMeta, error) {
	d, err := s.latestScanDoc(ctx, scopes, asOf)
	if err != nil {
		return nil, err
	}
	return &ScanMeta{ID: d.ID, AsOf: d.AsOf, PolicyRevision: d.PolicyRevision, Department: d.Department,
		ScopeHash: d.ScopeHash, Indexed: d.Format == reportFormat && !d.Pruned}, nil
}

// head returns the index of a done scan (kept decoded, headscache.go): shared, callers must
// not change it.
func (s *Store) head(ctx context.Context, scanID string) (*headDoc, error) {
	k, err := s.keptHeadOf(ctx, scanID)
	if err != nil {
		return nil, err
	}
	return k.head, nil
}

// ScanIndex returns where the findings of each organ of a scan are kept.
func (s *Store) ScanIndex(ctx context.Context, scanID string) ([]OrganResult, error) {
	h, err := s.head(ctx, scanID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(h.Entries), nil
}

// OrganViolations returns the violations the entries point to, by organ.
func (s *Store) OrganViolations(ctx context.Context, entries []OrganResult) (map[string][]duty.Violation, error) {
	reps, err := s.OrganReports(ctx, entries)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]duty.Violation, len(reps))
	for o, r := range reps {
		out[o] = r.Violations
	}
	return out, nil
}

// OrganReports returns the findings the entries point to, by organ.
func (s *Store) OrganReports(ctx context.Context, entries []OrganResult) (map[string]OrganReport, error) {
	out := make(map[string]OrganReport, len(entries))
	err := s.readFindings(ctx, entries, nil, func(c *reportChunk) {
		r := out[c.Organ]
		r.Violations = append(r.Violations, c.Violations...)
		r.Warnings = append(r.Warnings, c.Warnings...)
		r.Waived = append(r.Waived, c.Waived...)
		out[c.Organ] = r
	})
	return out, err
}

// readFindings reads the chunks of the entries, of the departments keep holds (all when keep
// is nil), and calls fn with each. Each organ's findings are in a table of their own (of every
// scan kept), so that the embedded store, which reads a whole table to find a document by _id,
// reads one organ's findings and not the store's.
func (s *Store) readFindings(ctx context.Context, entries []OrganResult, keep map[string]bool, fn func(*reportChunk)) error {
	for _, e := range entries {
		if e.Chunks == 0 {
			continue
		}
		coll := s.findingsColl(e.Organ)
		var chunks []bson.Raw
		if keep == nil {
			// Every chunk of the organ in one query.
			cur, err := coll.Find(ctx, bson.D{{Key: "scan", Value: e.Source}})
			if err != nil {
				return fmt.Errorf("read report: %w", unavailable(err))
			}
			for cur.Next(ctx) {
				id, _ := cur.Current.Lookup("_id").StringValueOK()
				if !strings.Contains(id, "/~") {
					chunks = append(chunks, slices.Clone(cur.Current))
				}
			}
			err = cur.Err()
			cur.Close(context.WithoutCancel(ctx))
			if err != nil {
				return fmt.Errorf("read report: %w", unavailable(err))
			}
			if len(chunks) != e.Chunks {
				return fmt.Errorf("the findings of organ %s in scan %s: %d of %d chunks (removed by the retention?): %w",
					e.Organ, e.Source, len(chunks), e.Chunks, duty.ErrNotFound)
			}
		} else {
			var d organDoc
			if err := s.findID(ctx, coll, organKey(e.Source), &d); err != nil {
				return err
			}
			for i, c := range d.Chunks {
				if !slices.ContainsFunc(c.Departments, func(x string) bool { return keep[x] }) {
					continue
				}
				raw, err := s.findRaw(ctx, coll, findingKey(e.Source, e.Organ, i))
				if err != nil {
					return err
				}
				chunks = append(chunks, raw)
			}
		}
		for _, raw := range chunks {
			var c reportChunk
			if err := bson.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("decode a report chunk: %w", err)
			}
			keepFindings(&c, keep)
			fixEvidence(c.Violations)
			for i := range c.Warnings {
				if c.Warnings[i].Evidence == nil {
					c.Warnings[i].Evidence = []duty.Ref{}
				}
			}
			for i := range c.Waived {
				if c.Waived[i].Evidence == nil {
					c.Waived[i].Evidence = []duty.Ref{}
				}
			}
			fn(&c)
		}
	}
	return nil
}

// findID decodes the document of coll with that _id; duty.ErrNotFound when there is none.
// Report documents never change once written (every _id names its scan), so the last ones read
// are kept in memory (reportCache).
func (s *Store) findID(ctx context.Context, coll *mongo.Collection, id string, v any) error {
	raw, err := s.findRaw(ctx, coll, id)
	if err != nil {
		return err
	}
	return bson.Unmarshal(raw, v)
}

func (s *Store) findRaw(ctx context.Context, coll *mongo.Collection, id string) (bson.Raw, error) {
	key := coll.Name() + "\x00" + id
	if raw, ok := s.reports.get(key); ok {
		return raw, nil
	}
	raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		return nil, missing(err, id)
	}
	raw = slices.Clone(raw)
	s.reports.put(key, raw)
	return raw, nil
}

// reportCache keeps the report documents last read, up to reportCacheBytes: they never change,
// and a page or an API call reads the same few again and again.
type reportCache struct {
	mu    sync.Mutex
	docs  map[string]bson.Raw
	order []string // oldest first
	bytes int
}

const reportCacheBytes = 64 << 20

func (c *reportCache) get(key string) (bson.Raw, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	raw, ok := c.docs[key]
	return raw, ok
}

func (c *reportCache) put(key string, raw bson.Raw) {
	if len(raw) > reportCacheBytes/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil {
		c.docs = map[string]bson.Raw{}
	}
	if _, ok := c.docs[key]; ok {
		return
	}
	for c.bytes+len(raw) > reportCacheBytes && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.docs[old])
		delete(c.docs, old)
	}
	c.docs[key], c.bytes = raw, c.bytes+len(raw)
	c.order = append(c.order, key)
}

// forget empties the cache (after the retention removed documents).
func (c *reportCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.docs, c.order, c.bytes = nil, nil, 0
}

func missing(err error, id string) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("report document %s is missing (removed by the retention of old scans?): %w", id, duty.ErrNotFound)
	}
	return fmt.Errorf("read report: %w", unavailable(err))
}

func fixEvidence(vs []duty.Violation) {
	for i := range vs {
		if vs[i].Evidence == nil {
			vs[i].Evidence = []duty.Ref{}
		}
	}
}

// resolvedOf reads the resolved checks of a scan kept under the given organs (all when nil).
func (s *Store) resolvedOf(ctx context.Context, h *headDoc, organs map[string]bool) ([]duty.Violation, error) {
	out := []duty.Violation{}
	for _, r := range h.Resolved {
		if organs != nil && !organs[r.Key] {
			continue
		}
		for i := range r.Chunks {
			var c reportChunk
			if err := s.findID(ctx, s.findingsColl(r.Key), resolvedKey(h.Scan, i), &c); err != nil {
				return nil, err
			}
			fixEvidence(c.Resolved)
			out = append(out, c.Resolved...)
		}
	}
	return out, nil
}

// fullReport reads every finding of a scan.
func (s *Store) fullReport(ctx context.Context, scanID string) (*duty.Report, error) {
	h, err := s.head(ctx, scanID)
	if err != nil {
		return nil, err
	}
	rep := &duty.Report{Violations: []duty.Violation{}, Warnings: []duty.Warning{}}
	err = s.readFindings(ctx, h.Entries, nil, func(c *reportChunk) {
		rep.Violations = append(rep.Violations, c.Violations...)
		rep.Warnings = append(rep.Warnings, c.Warnings...)
		rep.Waived = append(rep.Waived, c.Waived...)
	})
	if err != nil {
		return nil, err
	}
	if rep.Resolved, err = s.resolvedOf(ctx, h, nil); err != nil {
		return nil, err
	}
	applyWaived(rep, h.Waived, nil)
	sortReport(rep)
	return rep, nil
}

func sortReport(rep *duty.Report) {
	duty.SortViolations(rep.Violations)
	duty.SortWarnings(rep.Warnings)
	slices.SortStableFunc(rep.Waived, func(a, b duty.Waived) int {
		return compareFindings(&a.Violation, &b.Violation)
	})
	duty.SortViolations(rep.Resolved)
}

func compareFindings(a, b *duty.Violation) int {
	x := []duty.Violation{*a, *b}
	duty.SortViolations(x)
	switch {
	case a.Key() == b.Key():
		return 0
	case x[0].Key() == a.Key():
		return -1
	}
	return 1
}

// DepartmentReport returns the latest report covering department's subtree (see
// LatestScan: of the department, an ancestor or the whole store), limited to the subtree and
// summarised over it. It reads only the subtree's findings.
func (s *Store) DepartmentReport(ctx context.Context, department string) (*duty.Report, error) {
	tree, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	if tree.Department(department) == nil {
		return nil, fmt.Errorf("department %q: %w", department, duty.ErrNotFound)
	}
	// The pointers of every scope in one read of a small table, rather than one lookup for
	// each ancestor.
	pointers, err := s.LatestReports(ctx)
	if err != nil {
		return nil, err
	}
	lt, ok := duty.LatestFor(pointers, tree, department)
	if !ok {
		return nil, fmt.Errorf("no finished scan covers department %q: %w", department, duty.ErrNotFound)
	}
	l := &latestDoc{Scan: lt.ScanID, AsOf: lt.AsOf, PolicyRevision: lt.PolicyRevision, GeneratedAt: lt.GeneratedAt}
	k, err := s.keptHeadOf(ctx, l.Scan)
	if err != nil {
		return nil, err
	}
	h := k.head
	keep := tree.Subtree(department)
	organs := map[string]bool{}
	for d := range keep {
		organs[organOf(tree, d)] = true
	}
	// The entries holding or naming the subtree's organs, in the index's order.
	var at []int
	for o := range organs {
		at = append(at, k.byOrgan[o]...)
	}
	slices.Sort(at)
	at = slices.Compact(at)
	entries := make([]OrganResult, 0, len(at))
	for _, i := range at {
		entries = append(entries, h.Entries[i])
	}
	rep := &duty.Report{ScanID: l.Scan, AsOf: l.AsOf, PolicyRevision: l.PolicyRevision, GeneratedAt: l.GeneratedAt,
		Violations: []duty.Violation{}, Warnings: []duty.Warning{}}
	err = s.readFindings(ctx, entries, keep, func(c *reportChunk) {
		rep.Violations = append(rep.Violations, c.Violations...)
		rep.Warnings = append(rep.Warnings, c.Warnings...)
		rep.Waived = append(rep.Waived, c.Waived...)
	})
	if err != nil {
		return nil, err
	}
	resolved, err := s.resolvedOf(ctx, h, organs)
	if err != nil {
		return nil, err
	}
	rep.Resolved = []duty.Violation{}
	for _, v := range resolved {
		if keep[v.Department] {
			rep.Resolved = append(rep.Resolved, v)
		}
	}
	applyWaived(rep, h.Waived, keep)
	sortReport(rep)
	rep.Summary = summaryOf(rep)
	d := department
	rep.Department = &d
	return rep, nil
}

// applyWaived takes the scan's waived violations (those of departments in keep; all when keep
// is nil) out of the report's violations and lists them as waived.
func applyWaived(rep *duty.Report, waived []duty.Waived, keep map[string]bool) {
	if len(waived) == 0 {
		return
	}
	keys := make(map[string]bool, len(waived))
	rep.Waived = rep.Waived[:0]
	for _, w := range waived {
		if keep != nil && !keep[w.Department] {
			continue
		}
		if w.Evidence == nil {
			w.Evidence = []duty.Ref{}
		}
		keys[w.Key()] = true
		rep.Waived = append(rep.Waived, w)
	}
	kept := rep.Violations[:0]
	for _, v := range rep.Violations {
		if !keys[v.Key()] {
			kept = append(kept, v)
		}
	}
	rep.Violations = kept
}

// summaryOf counts a report's findings; new and persisting by first_seen.
func summaryOf(rep *duty.Report) duty.Summary {
	sum := duty.Summarize(rep.Violations)
	sum.New = 0
	for _, v := range rep.Violations {
		if v.FirstSeen == nil || v.FirstSeen.ScanID == rep.ScanID {
			sum.New++
		} else {
			sum.Persisting++
		}
	}
	sum.Resolved, sum.Warnings, sum.Waived = len(rep.Resolved), len(rep.Warnings), len(rep.Waived)
	return sum
}

// Latest names the scan whose report a scope shows (duty.LatestReport).
type Latest = duty.LatestReport

// LatestReports returns the latest report of every scope that has one ("" is the whole store),
// in one read of a table holding one document per scope.
func (s *Store) LatestReports(ctx context.Context) (map[string]Latest, error) {
	cur, err := s.db.Collection(latestColl).Find(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("read the latest reports: %w", unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out := map[string]Latest{}
	for cur.Next(ctx) {
		var l latestDoc
		if err := cur.Decode(&l); err != nil {
			return nil, fmt.Errorf("decode the latest reports: %w", err)
		}
		out[l.Scope] = l.report()
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read the latest reports: %w", unavailable(err))
	}
	return out, nil
}

func (s *Store) scanCounts(ctx context.Context, scanID string) ([]DepartmentCounts, error) {
	var d deptsDoc
	err := s.db.Collection(countsColl).FindOne(ctx, bson.D{{Key: "_id", Value: deptsKey(scanID)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("the summary of scan %s: %w", scanID, duty.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read the summary of scan %s: %w", scanID, unavailable(err))
	}
	return d.Depts, nil
}

// ScanDepartmentCounts returns each department's own counts in a scan.
func (s *Store) ScanDepartmentCounts(ctx context.Context, scanID string) ([]DepartmentCounts, error) {
	return s.scanCounts(ctx, scanID)
}

// OrganCounts returns, for each of the given scans, its violations by the organ of their
// department (the trend), kept with the scan whatever the retention; in one read.
func (s *Store) OrganCounts(ctx context.Context, scanIDs []string) (map[string]map[string]int, error) {
	out := map[string]map[string]int{}
	if len(scanIDs) == 0 {
		return out, nil
	}
	cur, err := s.db.Collection(scansColl).Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: scanIDs}}}},
		options.Find().SetProjection(bson.D{{Key: "organ_counts", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read scans: %w", unavailable(err))
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var d struct {
			ID     string  `bson:"_id"`
			Organs []Count `bson:"organ_counts"`
		}
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode scan: %w", err)
		}
		m := make(map[string]int, len(d.Organs))
		for _, c := range d.Organs {
			m[c.Key] = c.N
		}
		out[d.ID] = m
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read scans: %w", unavailable(err))
	}
	return out, nil
}

// legacyTables lists the report tables of the previous layout.
func (s *Store) legacyTables(ctx context.Context) ([]string, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list collections: %w", unavailable(err))
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, legacyReportPrefix) || strings.HasPrefix(n, legacyIndexPrefix) {
			out = append(out, n)
		}
	}
	return out, nil
}

type legacyChunk struct {
	ID         string           `bson:"_id"`
	Organ      string           `bson:"organ"`
	Violations []duty.Violation `bson:"violations"`
}

type legacyIndex struct {
	ID      string        `bson:"_id"`
	Entries []OrganResult `bson:"entries"`
}

// migrateReports moves the reports of the previous layout (a table and an index per scan) into
// this one. Every write is idempotent (the same _id and content whenever it is repeated) and a
// scan is marked migrated (format 3) only after its findings and summaries are written; the old
// tables are dropped only when no scan of the old format is left. A migration cut short is
// thus done again, whole, at the next start.
func (s *Store) migrateReports(ctx context.Context) error {
	tables, err := s.legacyTables(ctx)
	if err != nil || len(tables) == 0 {
		return err
	}
	cur, err := s.db.Collection(scansColl).Find(ctx, bson.D{{Key: "status", Value: duty.ScanDone}, {Key: "format", Value: legacyReportFormat}})
	if err != nil {
		return fmt.Errorf("read scans: %w", unavailable(err))
	}
	var old []scanDoc
	for cur.Next(ctx) {
		var d scanDoc
		if err := cur.Decode(&d); err != nil {
			cur.Close(context.WithoutCancel(ctx))
			return fmt.Errorf("decode scan: %w", err)
		}
		old = append(old, d)
	}
	err = cur.Err()
	cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("read scans: %w", unavailable(err))
	}
	migrated := map[[2]string]OrganResult{} // (source, organ) → its new entry
	for i := range old {
		if err := s.migrateScan(ctx, &old[i], migrated); err != nil {
			return fmt.Errorf("migrate the report of scan %s: %w", old[i].ID, err)
		}
	}
	if err := s.hook("migrate.before-drop"); err != nil {
		return err
	}
	for _, t := range tables {
		if err := s.db.Collection(t).Drop(ctx); err != nil {
			return fmt.Errorf("drop %s: %w", t, unavailable(err))
		}
	}
	return nil
}

func (s *Store) migrateScan(ctx context.Context, d *scanDoc, migrated map[[2]string]OrganResult) error {
	var entries []OrganResult
	cur, err := s.db.Collection(legacyIndexPrefix+d.ID).Find(ctx, bson.D{})
	if err != nil {
		return unavailable(err)
	}
	var idx []legacyIndex
	for cur.Next(ctx) {
		var x legacyIndex
		if err := cur.Decode(&x); err != nil {
			cur.Close(context.WithoutCancel(ctx))
			return err
		}
		idx = append(idx, x)
	}
	// Part of the index would migrate into a report missing organs.
	err = cur.Err()
	cur.Close(context.WithoutCancel(ctx))
	if err != nil {
		return unavailable(err)
	}
	slices.SortFunc(idx, func(a, b legacyIndex) int { return strings.Compare(a.ID, b.ID) })
	for _, x := range idx {
		entries = append(entries, x.Entries...)
	}
	rep := &duty.Report{ScanID: d.ID, AsOf: d.AsOf, PolicyRevision: d.PolicyRevision, GeneratedAt: d.Generated,
		Violations: []duty.Violation{}, Warnings: []duty.Warning{}, Resolved: []duty.Violation{}}
	results := make([]OrganResult, 0, len(entries))
	for _, e := range entries {
		key := [2]string{e.Source, e.Organ}
		r, ok := migrated[key]
		var vs []duty.Violation
		if e.Count > 0 {
			for i := range e.Chunks {
				var c legacyChunk
				err := s.db.Collection(legacyReportPrefix+e.Source).FindOne(ctx, bson.D{{Key: "_id", Value: "v/" + e.Organ + "/" + strconv.Itoa(i)}}).Decode(&c)
				if err != nil {
					return fmt.Errorf("read organ %s of scan %s: %w", e.Organ, e.Source, unavailable(err))
				}
				vs = append(vs, c.Violations...)
			}
		}
		if !ok {
			if r, err = s.PutOrganReport(ctx, e.Source, e.Organ, e.Version, OrganReport{Violations: vs}); err != nil {
				return err
			}
			migrated[key] = r
		}
		r.Version = e.Version
		results = append(results, r)
		rep.Violations = append(rep.Violations, vs...)
	}
	for i := range d.Resolved {
		var c legacyChunk
		err := s.db.Collection(legacyReportPrefix+d.ID).FindOne(ctx, bson.D{{Key: "_id", Value: "r/" + strconv.Itoa(i)}}).Decode(&c)
		if err != nil {
			return fmt.Errorf("read the resolved checks: %w", unavailable(err))
		}
		rep.Resolved = append(rep.Resolved, c.Violations...)
	}
	duty.SortViolations(rep.Violations)
	d.decodeSummary()
	if d.Summary != nil {
		rep.Summary = *d.Summary
	} else {
		rep.Summary = summaryOf(rep)
	}
	sc := d.Scan
	sc.Report = rep
	organs, err := s.writeSummaries(ctx, &sc, results)
	if err != nil {
		return err
	}
	return s.markDone(ctx, &sc, d.ScopeHash, organs, bson.D{{Key: "_id", Value: sc.ID}})
}

// Collections lists the collections of the store's database by name, then those of its shards
// as "<shard database>/<name>" (tests and the bench count them).
func (s *Store) Collections(ctx context.Context) ([]string, error) {
	var out []string
	for i, db := range s.databases() {
		names, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("list collections of %s: %w", db.Name(), unavailable(err))
		}
		slices.Sort(names)
		for _, n := range names {
			if i > 0 {
				n = db.Name() + "/" + n
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// Database is the name of the store's database.
func (s *Store) Database() string { return s.cfg.Database }
