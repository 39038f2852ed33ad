package duty

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ProblemKind says what sort of thing is wrong in a Problem. The validator and the store's
// rules set it where they make the problem, so that the pages and the spreadsheet import word a
// problem in Chinese from its kind (Problem.Chinese), never by reading its English message.
type ProblemKind string

// The kinds of problem the validator (Normalize, CheckDepartment, Validate, ReadDir,
// DecodeArray) and the store's rules for department users make.
const (
	KindRequired     ProblemKind = "required"          // a required field is absent or empty
	KindUnknownField ProblemKind = "unknown_field"     // a field the record does not have
	KindType         ProblemKind = "type"              // a value of the wrong JSON type
	KindID           ProblemKind = "bad_id"            // an id outside IDRule
	KindTooLong      ProblemKind = "too_long"          // a string over MaxStringChars or MaxTextChars
	KindControl      ProblemKind = "control_character" // a control character in a string (ControlChar)
	KindTooMany      ProblemKind = "too_many"          // an array over MaxItems
	KindDate         ProblemKind = "bad_date"          // not a date YYYY-MM-DD
	KindDateRange    ProblemKind = "date_range"        // a date outside MinDate to MaxDate
	KindEnum         ProblemKind = "bad_enum"          // a value outside the field's enumeration
	KindInt          ProblemKind = "bad_int"           // not an integer
	KindIntRange     ProblemKind = "int_range"         // an integer outside the field's range; Args: min, max
	KindBool         ProblemKind = "bad_bool"          // not true or false
	KindDuplicateID  ProblemKind = "duplicate_id"      // an id another document of the batch has
	KindDuplicateSub ProblemKind = "duplicate_item_id" // an id another element of the same array has
	KindMissingRef   ProblemKind = "missing_reference" // names no record (or none the user may name); Args: the id
	KindCycle        ProblemKind = "cycle"             // the department tree would have a cycle
	KindOrganParent  ProblemKind = "organ_parent"      // an organ with a parent
	KindNeedParent   ProblemKind = "parent_required"   // a department other than an organ without a parent
	KindSelfParent   ProblemKind = "self_parent"       // a department that is its own parent
	KindIDTaken      ProblemKind = "id_taken"          // the id is a stored record's the writer may not replace
	KindScope        ProblemKind = "outside_scope"     // outside the department user's subtree
	KindOrganLevel   ProblemKind = "organ_level"       // a record of an organ-level duty, not a department user's
	KindLeader       ProblemKind = "leader"            // names one of the organ's leaders, not a department user's
	KindUnchecked    ProblemKind = "unchecked"         // the rule could not be checked (the store did not answer)
	KindJSON         ProblemKind = "bad_json"          // a body or file that is not the JSON expected
	KindFile         ProblemKind = "bad_file"          // a file of a dataset folder that is misnamed, missing or unreadable
)

// problemTexts is the one table of the problems' Chinese, by kind: a sentence for the pages and
// the spreadsheet import, formatted with the problem's Args where it has %s.
var problemTexts = map[ProblemKind]string{
	KindRequired:     "此项必填。",
	KindUnknownField: "不是这类记录的字段。",
	KindType:         "填写的内容类型不符。",
	KindID:           "编号须为 1 至 128 个字符，由文字、数字和连字符、下划线、句点、冒号组成，并以文字或数字开头。",
	KindTooLong:      "内容过长，请删减。",
	KindControl:      "含有不可见的控制字符（可能来自复制粘贴），请删除后重新填写。",
	KindTooMany:      "条目过多，请删减。",
	KindDate:         "请填写有效日期（年-月-日）。",
	KindDateRange:    "日期须在 " + MinDate + " 至 " + MaxDate + " 之间。",
	KindEnum:         "请从所列选项中选择。",
	KindInt:          "须为整数。",
	KindIntRange:     "须为 %s 至 %s 之间的整数。",
	KindBool:         "请选择「是」或「否」。",
	KindDuplicateID:  "编号与本批中另一行重复。",
	KindDuplicateSub: "编号与同一记录的另一项重复。",
	KindMissingRef:   "找不到「%s」：既不是已存储的记录，也不在本次提交中，请从列表中选择。",
	KindCycle:        "这样设置会使部门层级形成循环。",
	KindOrganParent:  "机关是最上级，不能有上级部门。",
	KindNeedParent:   "除机关外，每个部门都要选择上级部门。",
	KindSelfParent:   "上级部门不能是本部门。",
	KindIDTaken:      "该编号已被使用，请换一个。",
	KindScope:        "超出本账号可写入的范围：部门用户只写入本部门及下级部门的记录。",
	KindOrganLevel:   "这是机关层面的职责记录，只有管理员或检查人员可以填写、修改或删除。",
	KindLeader:       "涉及机关领导干部（党组成员或厅级干部），其记录只有管理员或检查人员可以填写或修改。",
	KindUnchecked:    "暂时无法核对，未写入任何记录，请稍后再试。",
	KindJSON:         "不是所要求格式的 JSON 数据。",
	KindFile:         "数据文件缺失、命名不符或无法读取。",
}

// Chinese is the problem's explanation in Chinese, from its kind, or "" when it has none (a
// problem made without a kind).
func (p Problem) Chinese() string {
	t, ok := problemTexts[p.Kind]
	if !ok {
		return ""
	}
	n := strings.Count(t, "%s")
	if n == 0 {
		return t
	}
	args := make([]any, n) // the ones a problem lacks read as empty, the extra ones are left out
	for i := range args {
		args[i] = ""
		if i < len(p.Args) {
			args[i] = p.Args[i]
		}
	}
	return fmt.Sprintf(t, args...)
}

// HasChinese reports whether problems of kind k have a Chinese explanation.
func HasChinese(k ProblemKind) bool { _, ok := problemTexts[k]; return ok }

// ProblemKinds returns every kind with a Chinese text, sorted.
func ProblemKinds() []ProblemKind { return slices.Sorted(maps.Keys(problemTexts)) }
