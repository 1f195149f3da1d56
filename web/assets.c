/*
 * assets — see assets.h.  The files are embedded by the assembler's .incbin
 * (the Makefile rebuilds this object when one of them changes).
 */
#include "assets.h"

#include <string.h>

#define ASSET_EMBED(sym, file)                          \
	__asm__(".section .rodata\n"                    \
		".global " #sym "\n"                    \
		".balign 16\n" #sym ":\n"               \
		".incbin \"" file "\"\n"                \
		".global " #sym "_end\n" #sym "_end:\n" \
		".byte 0\n"                             \
		".previous\n");                         \
	extern const unsigned char sym[], sym##_end[]

ASSET_EMBED(asset_index_html, "web/assets/index.html");
ASSET_EMBED(asset_app_js, "web/assets/app.js");
ASSET_EMBED(asset_app_css, "web/assets/app.css");
ASSET_EMBED(asset_icon_svg, "web/assets/icon.svg");

int assets_find(const char *path, struct asset *out)
{
	static const struct {
		const char *path;
		const char *content_type;
		const unsigned char *start, *end;
	} assets[] = {
		{"/", "text/html; charset=utf-8", asset_index_html, asset_index_html_end},
		{"/app.js", "text/javascript; charset=utf-8", asset_app_js, asset_app_js_end},
		{"/app.css", "text/css; charset=utf-8", asset_app_css, asset_app_css_end},
		{"/icon.svg", "image/svg+xml", asset_icon_svg, asset_icon_svg_end},
	};
	size_t i;

	for (i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(assets[i].path, path) == 0) {
			out->path = assets[i].path;
			out->content_type = assets[i].content_type;
			out->data = assets[i].start;
			out->size = (size_t)(assets[i].end - assets[i].start);
			return 0;
		}
	return -1;
}
