package duty

import (
	"context"
	"fmt"
)

// PolicyStore keeps the policy revisions for internal/live: an append-only log in which
// revision n has the id RevisionID(n) and the revision in force is the newest. internal/store
// implements it on the database, dutytest.Store in memory for the edges' tests.
type PolicyStore interface {
	// Revisions lists the revisions, newest first, without their files.
	Revisions(ctx context.Context) ([]PolicyRevision, error)
	// Revision returns one revision with its files; ErrNotFound when there is none with id.
	Revision(ctx context.Context, id string) (*PolicyRevision, error)
	// RevisionMeta is Revision without the files (cheap: the poll reads it).
	RevisionMeta(ctx context.Context, id string) (*PolicyRevision, error)
	// InsertRevision appends rev as the revision that follows revision baseSeq (0 for the
	// first of an empty store) and sets rev.Seq, rev.ID and rev.CreatedAt. It is a change's
	// compare-and-set: when another revision already follows baseSeq, nothing is written and
	// the error matches ErrConflict.
	InsertRevision(ctx context.Context, rev *PolicyRevision, baseSeq int64) error
	// AuditRevision appends rev's entry to the audit trail, once (at rev's time: writing it
	// again changes nothing), and marks rev audited.
	AuditRevision(ctx context.Context, e AuditEntry, rev *PolicyRevision) error
	// MarkRevisionAudited records that revision id has its audit entry.
	MarkRevisionAudited(ctx context.Context, id string) error
	// UnauditedRevisions lists, oldest first and without their files, the revisions not
	// marked audited.
	UnauditedRevisions(ctx context.Context) ([]PolicyRevision, error)
	// AuditedRevisions is the set of revision ids that an entry of the audit trail about
	// policy revisions names, whoever wrote it.
	AuditedRevisions(ctx context.Context) (map[string]bool, error)
	// Audit appends an entry to the audit trail (a preview's).
	Audit(ctx context.Context, e AuditEntry) error
	// OrganLoader reads the records a preview evaluates.
	OrganLoader
}

// OrganLoader reads whole organs for evaluation: a scan's scope, a preview's.
type OrganLoader interface {
	// Departments lists every department record.
	Departments(ctx context.Context) ([]Doc, error)
	// OrgansWithAppointmentsIn returns the organs holding an appointment to one of the
	// departments (an appointment lives with its person's organ).
	OrgansWithAppointmentsIn(ctx context.Context, departments map[string]bool) ([]string, error)
	// LoadOrgans returns the records of the given organs (every organ when ids is nil), by
	// organ in the tree's order and by collection, with the department tree.
	LoadOrgans(ctx context.Context, ids []string) ([]*Organ, *Tree, error)
}

// LegacyPolicyMarker is what internal/store keeps of an earlier version, which moved an
// active-revision marker on a rollback instead of appending a revision. internal/live migrates
// it at its start when its PolicyStore has these methods. It is not part of PolicyStore: only a
// database an earlier version wrote can hold the marker, and the migration is a rollback
// through the policy gate, so the store cannot do it by itself when it opens.
type LegacyPolicyMarker interface {
	// LegacyActive returns the revision id the marker points at, "" when there is none.
	LegacyActive(ctx context.Context) (string, error)
	// DropLegacyActive removes the marker once migrated.
	DropLegacyActive(ctx context.Context) error
}

// RevisionID is the id of the policy revision with sequence number seq.
func RevisionID(seq int64) string { return fmt.Sprintf("r%d", seq) }
