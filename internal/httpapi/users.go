package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
)

func (s *server) userRoutes(g *gin.RouterGroup) {
	g.GET("/me", func(c *gin.Context) { c.JSON(http.StatusOK, principal(c)) })
	admin := g.Group("", require(duty.ManageUsers))
	admin.GET("/users", s.listUsers)
	admin.PUT("/users/:name", s.putUser)
	admin.PUT("/users/:name/password", s.putPassword)
	admin.POST("/users/:name/tokens", s.createToken)
	admin.GET("/tokens", s.listTokens)
	admin.DELETE("/tokens/:id", s.revokeToken)
	g.GET("/audit", require(duty.ReadAudit), s.auditTrail)
}

func (s *server) listUsers(c *gin.Context) {
	users, err := s.Store.Users(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": users})
}

type putUserBody struct {
	// DisplayName is the user's name for people; absent keeps the one stored.
	DisplayName *string `json:"display_name"`
	Role        string  `json:"role"`
	Department  string  `json:"department"`
	Disabled    bool    `json:"disabled"`
}

func (s *server) putUser(c *gin.Context) {
	var body putUserBody
	if err := decodeJSON(c, &body, `{"display_name": string?, "role": "admin|policy_editor|inspector|department", "department": ID?, "disabled": bool?}`); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u := duty.User{Name: c.Param("name"), Role: body.Role, Department: body.Department, Disabled: body.Disabled}
	if body.DisplayName != nil {
		u.DisplayName = *body.DisplayName
	} else if old, err := s.Store.GetUser(ctx, u.Name); err == nil {
		u.DisplayName = old.DisplayName
	}
	if err := s.Store.PutUser(ctx, actor(c), u); err != nil {
		s.fail(c, err)
		return
	}
	got, err := s.Store.GetUser(ctx, u.Name)
	if err == nil {
		got.PasswordSet, err = s.Store.HasPassword(ctx, u.Name)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, got)
}

type putPasswordBody struct {
	Password string `json:"password"`
}

// putPassword sets or resets a user's password; the user's browser sessions end.
func (s *server) putPassword(c *gin.Context) {
	var body putPasswordBody
	if err := decodeJSON(c, &body, `{"password": "10 to 128 characters"}`); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.Store.SetPassword(c.Request.Context(), actor(c), c.Param("name"), body.Password); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type createTokenBody struct {
	Name      string `json:"name"`
	ExpiresAt string `json:"expires_at"`
}

func (s *server) createToken(c *gin.Context) {
	var body createTokenBody
	if err := decodeJSON(c, &body, `{"name": "what the token is for", "expires_at": "RFC 3339 time, optional"}`); err != nil {
		s.fail(c, err)
		return
	}
	var expires time.Time
	if body.ExpiresAt != "" {
		var err error
		if expires, err = time.Parse(time.RFC3339, body.ExpiresAt); err != nil {
			s.fail(c, fmt.Errorf("expires_at %q: %w: expected an RFC 3339 time such as 2026-12-31T23:59:59+08:00", body.ExpiresAt, duty.ErrInvalid))
			return
		}
	}
	t, secret, err := s.Store.CreateTokenUntil(c.Request.Context(), actor(c), c.Param("name"), body.Name, expires)
	if err != nil {
		s.fail(c, err)
		return
	}
	answer := gin.H{"token": secret, "id": t.ID, "user": t.User, "name": t.Name,
		"note": "the token is shown only now; only its hash is stored"}
	if t.ExpiresAt != "" {
		answer["expires_at"] = t.ExpiresAt
	}
	c.JSON(http.StatusCreated, answer)
}

func (s *server) listTokens(c *gin.Context) {
	tokens, err := s.Store.Tokens(c.Request.Context(), c.Query("user"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tokens": tokens})
}

func (s *server) revokeToken(c *gin.Context) {
	if err := s.Store.RevokeToken(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// auditTrail answers the entries matching the filters, newest first; "next" is the id to pass
// as before for the following page, present when more entries match.
func (s *server) auditTrail(c *gin.Context) {
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "200"))
	if err != nil || limit < 1 || limit > 10000 {
		s.fail(c, errBadRequest("limit must be a number from 1 to 10000"))
		return
	}
	from, to, err := duty.AuditDays(c.Query("from"), c.Query("to"), time.Local)
	if err != nil {
		s.fail(c, err)
		return
	}
	q := duty.AuditQuery{Actor: c.Query("actor"), Action: c.Query("action"), Record: c.Query("record"),
		From: from, To: to, Before: c.Query("before"), Limit: limit}
	entries, more, err := s.Store.AuditSearch(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	answer := gin.H{"entries": entries}
	if more {
		answer["next"] = entries[len(entries)-1].ID
	}
	c.JSON(http.StatusOK, answer)
}
