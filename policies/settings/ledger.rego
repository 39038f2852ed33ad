# METADATA
# title: 整改台账与部门考核
# description: |
#   整改台账（销号管理）和部门考核的参数：各严重程度问题的整改期限（立案日期加上该期限为整改
#   期限日，过期未销号即为逾期），豁免的最长有效期（自申请之日起算），以及部门考核得分的扣分
#   权重（得分为 100 减去每个未整改问题按严重程度、每个逾期案件和每条预警的扣分，最低为 0）。
#   修改后对之后的检查和请求生效：新立案或重新打开的案件按新期限计算，已立案案件的期限不变。
# custom:
#   id: ledger
#   units:
#     rectify_days_high: {zh: 天, en: days}
#     rectify_days_medium: {zh: 天, en: days}
#     rectify_days_low: {zh: 天, en: days}
#     waiver_max_days: {zh: 天, en: days}
#     weight_high: {zh: 分, en: points}
#     weight_medium: {zh: 分, en: points}
#     weight_low: {zh: 分, en: points}
#     weight_overdue: {zh: 分, en: points}
#     weight_warning: {zh: 分, en: points}
#   en:
#     title: Rectification ledger and department standing
#     description: |
#       Parameters of the rectification ledger and the department standing: the rectification
#       period of a case by severity (due_on = opened_on + the period; a case not closed by then
#       is overdue), the longest a waiver may run (from the day it is requested), and the weights
#       of the standing's score (100 minus points per open violation by severity, per overdue case
#       and per warning, at least 0). A change applies to the next scans and requests: cases opened
#       or reopened from then on get the new periods; the due dates of open cases stay.
#     params:
#       rectify_days_high: rectification period, high severity
#       rectify_days_medium: rectification period, medium severity
#       rectify_days_low: rectification period, low severity
#       waiver_max_days: longest waiver
#       weight_high: points per open high-severity violation
#       weight_medium: points per open medium-severity violation
#       weight_low: points per open low-severity violation
#       weight_overdue: points per overdue case
#       weight_warning: points per warning
#   params:
#     rectify_days_high: {type: integer, zh: 高风险问题整改期限, minimum: 1, maximum: 3650, description: "days from opened_on to due_on for a case of high severity"}
#     rectify_days_medium: {type: integer, zh: 中风险问题整改期限, minimum: 1, maximum: 3650, description: "days from opened_on to due_on for a case of medium severity"}
#     rectify_days_low: {type: integer, zh: 低风险问题整改期限, minimum: 1, maximum: 3650, description: "days from opened_on to due_on for a case of low severity"}
#     waiver_max_days: {type: integer, zh: 豁免最长期限, minimum: 1, maximum: 3650, description: "a waiver ends at most this many days after the day it is requested"}
#     weight_high: {type: number, zh: 每个高风险问题扣分, minimum: 0, maximum: 100, description: "points taken from 100 per open violation of high severity"}
#     weight_medium: {type: number, zh: 每个中风险问题扣分, minimum: 0, maximum: 100, description: "points taken from 100 per open violation of medium severity"}
#     weight_low: {type: number, zh: 每个低风险问题扣分, minimum: 0, maximum: 100, description: "points taken from 100 per open violation of low severity"}
#     weight_overdue: {type: number, zh: 每个逾期案件扣分, minimum: 0, maximum: 100, description: "points taken from 100 per overdue case"}
#     weight_warning: {type: number, zh: 每条预警扣分, minimum: 0, maximum: 100, description: "points taken from 100 per warning"}
package settings.ledger
