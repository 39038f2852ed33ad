package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
)

func (s *server) userRoutes(g *gin.RouterGroup) {
	g.GET("/me", func(c *gin.Context) { c.JSON(http.StatusOK, principal(c)) })
	admin := g.Group("", require(duty.ManageUsers))
	admin.GET("/users", s.listUsers)
	admin.PUT("/users/:name", s.putUser)
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
	Role       string `json:"role"`
	Department string `json:"department"`
	Disabled   bool   `json:"disabled"`
}

func (s *server) putUser(c *gin.Context) {
	var body putUserBody
	if err := decodeJSON(c, &body, `{"role": "admin|policy_editor|inspector|department", "department": ID?, "disabled": bool?}`); err != nil {
		s.fail(c, err)
		return
	}
	u := duty.User{Name: c.Param("name"), Role: body.Role, Department: body.Department, Disabled: body.Disabled}
	if err := s.Store.PutUser(c.Request.Context(), actor(c), u); err != nil {
		s.fail(c, err)
		return
	}
	got, err := s.Store.GetUser(c.Request.Context(), u.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, got)
}

type createTokenBody struct {
	Name string `json:"name"`
}

func (s *server) createToken(c *gin.Context) {
	var body createTokenBody
	if err := decodeJSON(c, &body, `{"name": "what the token is for"}`); err != nil {
		s.fail(c, err)
		return
	}
	t, secret, err := s.Store.CreateToken(c.Request.Context(), actor(c), c.Param("name"), body.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": secret, "id": t.ID, "user": t.User, "name": t.Name,
		"note": "the token is shown only now; only its hash is stored"})
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

func (s *server) auditTrail(c *gin.Context) {
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "200"))
	if err != nil || limit < 1 || limit > 10000 {
		s.fail(c, errBadRequest("limit must be a number from 1 to 10000"))
		return
	}
	entries, err := s.Store.AuditTrail(c.Request.Context(), c.Query("actor"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries})
}
