package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/dutycheck/dutycheck/internal/duty"
)

// webhookRoutes are the admins' webhooks (internal/notify): create, list, read, delete, and
// the recorded delivery attempts of each.
func (s *server) webhookRoutes(g *gin.RouterGroup) {
	admin := g.Group("/webhooks", require(duty.ManageWebhooks))
	admin.POST("", s.createWebhook)
	admin.GET("", s.listWebhooks)
	admin.GET("/:id", s.getWebhook)
	admin.DELETE("/:id", s.deleteWebhook)
	admin.GET("/:id/deliveries", s.webhookDeliveries)
}

type webhookBody struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	URL         string   `json:"url"`
	Secret      *string  `json:"secret"`
	Departments []string `json:"departments"`
}

// createWebhook answers 201 with the webhook. A generic webhook without a secret gets a random
// one, shown in this answer only; the secret is never shown again.
func (s *server) createWebhook(c *gin.Context) {
	var body webhookBody
	if err := decodeJSON(c, &body, `{"name": NAME, "kind": "generic|dingtalk|wecom", "url": "https://…", "secret": STRING?, "departments": [ID, …]}`); err != nil {
		s.fail(c, err)
		return
	}
	w := duty.Webhook{Name: body.Name, Kind: body.Kind, URL: body.URL, Departments: body.Departments}
	if body.Secret != nil {
		w.Secret = *body.Secret
	}
	generated := false
	if w.Kind == duty.WebhookGeneric && w.Secret == "" {
		b := make([]byte, 24)
		_, _ = rand.Read(b)
		w.Secret, generated = hex.EncodeToString(b), true
	}
	if err := s.Store.CreateWebhook(c.Request.Context(), actor(c), &w); err != nil {
		s.fail(c, err)
		return
	}
	out := gin.H{"webhook": w}
	if generated {
		out["secret"] = w.Secret
		out["note"] = "the generated secret is shown only now; use it to verify the X-Dutycheck-Signature header"
	}
	c.JSON(http.StatusCreated, out)
}

func (s *server) listWebhooks(c *gin.Context) {
	hooks, err := s.Store.Webhooks(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": hooks})
}

func (s *server) getWebhook(c *gin.Context) {
	w, err := s.Store.GetWebhook(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

func (s *server) deleteWebhook(c *gin.Context) {
	if err := s.Store.DeleteWebhook(c.Request.Context(), actor(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) webhookDeliveries(c *gin.Context) {
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "100"))
	if err != nil || limit < 1 || limit > 1000 {
		s.fail(c, errBadRequest("limit must be a number from 1 to 1000"))
		return
	}
	if _, err := s.Store.GetWebhook(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	ds, err := s.Store.Deliveries(c.Request.Context(), c.Param("id"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": ds})
}
