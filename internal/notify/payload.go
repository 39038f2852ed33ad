package notify

import (
	"fmt"
	"strings"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// Payload is the generic webhook's JSON body: one scan's news for one department subtree.
type Payload struct {
	// Event is "dutycheck.scan".
	Event      string `json:"event"`
	ScanID     string `json:"scan_id"`
	AsOf       string `json:"as_of"`
	Department Dept   `json:"department"`
	// Violations are the new high-severity violations (first seen in this scan); Warnings the
	// warnings that entered their window since the previous scan of the same scope.
	Violations []Item `json:"violations"`
	Warnings   []Item `json:"warnings"`
	// Title and Text are the message in Chinese (Text in markdown), as the robots show it.
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Dept is a department's id and name.
type Dept struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Item is one violation or warning of a message.
type Item struct {
	Policy      string         `json:"policy"`
	PolicyTitle string         `json:"policy_title"`
	Severity    string         `json:"severity"`
	Reason      string         `json:"reason"`
	Department  Dept           `json:"department"`
	Subject     duty.Ref       `json:"subject"`
	Details     map[string]any `json:"details"`
	// Message is the violation's Chinese explanation.
	Message string `json:"message"`
	// FailsOn is a warning's first failing day ("" for violations).
	FailsOn string `json:"fails_on,omitempty"`
}

// Markdown renders a payload's message in Chinese: its title and its markdown text.
func Markdown(p *Payload) (title, text string) {
	var parts []string
	if n := len(p.Violations); n > 0 {
		parts = append(parts, fmt.Sprintf("新增严重问题 %d 项", n))
	}
	if n := len(p.Warnings); n > 0 {
		parts = append(parts, fmt.Sprintf("进入预警期 %d 项", n))
	}
	title = fmt.Sprintf("履责检查提醒：%s%s", p.Department.Name, strings.Join(parts, "，"))
	var b strings.Builder
	fmt.Fprintf(&b, "### 履责检查提醒：%s\n\n", md(p.Department.Name))
	fmt.Fprintf(&b, "检查日期：%s，%s。\n", p.AsOf, strings.Join(parts, "，"))
	if len(p.Violations) > 0 {
		b.WriteString("\n#### 新增严重问题\n\n")
		for i, it := range p.Violations {
			fmt.Fprintf(&b, "%d. 【%s】%s（%s）\n", i+1, md(it.PolicyTitle), md(it.Message), md(it.Department.Name))
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("\n#### 即将到期（预警）\n\n")
		for i, it := range p.Warnings {
			fmt.Fprintf(&b, "%d. %s 起未履行即违规：【%s】%s（%s）\n", i+1, it.FailsOn, md(it.PolicyTitle), md(it.Message), md(it.Department.Name))
		}
	}
	fmt.Fprintf(&b, "\n> 检查编号：%s\n", md(p.ScanID))
	return title, b.String()
}

// md keeps record text from acting as markdown: a name like "*" or "[x](y)" shows as typed.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "`", "\\`", "<", "&lt;", ">", "&gt;", "#", `\#`, "\n", " ")

func md(s string) string { return mdEscaper.Replace(s) }
