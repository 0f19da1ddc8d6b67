package api

import (
	"github.com/capmatch/capmatch/i18n"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// texts is the catalog the API writes its words from: match reasons, problem messages and
// notification texts, next to their codes and arguments.
var texts = i18n.Default()

// lang is the caller's language for the words of a response: the lang query parameter when the
// catalog has it, else the first of Accept-Language it has, else English. The response says
// which (Content-Language) and that it depends on Accept-Language (Vary).
func lang(c *fiber.Ctx) string {
	// Both read in place (c.Query and c.Get copy: the app is Immutable); Negotiate copies what
	// it keeps.
	l := texts.Negotiate(utils.UnsafeString(c.Request().URI().QueryArgs().Peek("lang")),
		utils.UnsafeString(c.Request().Header.Peek(fiber.HeaderAcceptLanguage)))
	setHeader(c, fiber.HeaderContentLanguage, l)
	vary(c, fiber.HeaderAcceptLanguage)
	return l
}

// localizer writes in the caller's language (see lang).
func localizer(c *fiber.Ctx) *i18n.Localizer { return texts.For(lang(c)) }
