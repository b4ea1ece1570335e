"""Hostile inputs for qosyl.render.markup.render, written for this project.

Each vector that tries to run code would, if it ran, both open a dialog
(alert/confirm/prompt) and set `window.__xss` (`parent.__xss` from inside a frame),
so the browser test sees execution in two independent ways. A few payloads are
encoded (entities, percent or base64) as part of the trick; tests/test_markup.py
decodes them before checking that rule. vbscript: cannot run in Chromium at all:
those vectors carry the same payload text and are there for the URL checks.
"""

from __future__ import annotations

import base64

JS = "window.__xss=1;alert(1)"
JS2 = "window.__xss=1;confirm(2)"
JS3 = "window.__xss=1;prompt(3)"
FRAME_JS = "parent.__xss=1;alert(1)"  # runs in a frame: the flag belongs to the page
SCRIPT = f"<script>{JS}</script>"
IMG = f'<img src=x onerror="{JS}">'
B64_SCRIPT = base64.b64encode(f"<script>{FRAME_JS}</script>".encode()).decode()
B64_SVG = base64.b64encode(
    f'<svg xmlns="http://www.w3.org/2000/svg" onload="{FRAME_JS}"/>'.encode()
).decode()
B64_JS = base64.b64encode(JS.encode()).decode()
# "javascript:" as decimal and hex character references, with and without padding.
ENT_DEC = "".join(f"&#{ord(c)};" for c in "javascript:")
ENT_HEX = "".join(f"&#x{ord(c):x};" for c in "javascript:")
ENT_PAD = "".join(f"&#{ord(c):07d}" for c in "javascript:")

SCRIPT_TAGS = [
    SCRIPT,
    f"<SCRIPT>{JS}</SCRIPT>",
    f"<ScRiPt>{JS}</sCrIpT>",
    f"<script type=text/javascript>{JS}</script>",
    f"<script/xss>{JS}</script>",
    f"<script\n>{JS}</script\n>",
    f"<script\t>{JS}</script>",
    f"<<script>script>{JS}<</script>/script>",
    f"<scr<script>ipt>{JS}</scr</script>ipt>",
    f"<script src=data:text/javascript,{JS}></script>",
    f'<script src="data:text/javascript;base64,{B64_JS}"></script>',
    f"</p>{SCRIPT}<p>",
    f"<!-- -->{SCRIPT}<!-- -->",
    f"<!--{SCRIPT}-->",
    f"<![CDATA[{SCRIPT}]]>",
    f'<?xml version="1.0"?>{SCRIPT}',
    f"<script>/*</script>*/{JS}</script>",
    f"%3Cscript%3E{JS}%3C/script%3E",
    f"&lt;script&gt;{JS}&lt;/script&gt;",
    f"&#60;script&#62;{JS}&#60;/script&#62;",
    f"\\u003cscript\\u003e{JS}\\u003c/script\\u003e",
    f"<script\x00>{JS}</script>",
    f"\uff1cscript\uff1e{JS}\uff1c/script\uff1e",
    f"<template>{SCRIPT}</template>",
    f"<textarea></textarea>{SCRIPT}",
    f"<title></title>{SCRIPT}",
    f"<noscript><p title=\"</noscript><img src=x onerror='{JS}'>\"></noscript>",
    f"<style></style><img src=x onerror='{JS}'>",
    f"<xmp><p title=\"</xmp><img src=x onerror='{JS}'>\"></xmp>",
]

EVENT_HANDLERS = [
    IMG,
    f"<img src=x onerror={JS}>",
    f"<IMG SRC=x ONERROR='{JS}'>",
    f"<img/src=x/onerror='{JS}'>",
    f"<img src=x onerror\t=\t'{JS}'>",
    f"<img\nsrc=x\nonerror='{JS}'>",
    f"<img src=x onerror=`{JS}`>",
    '<img src=x onerror="&#119;indow.__xss=1;alert(1)">',
    f"<img src=x onerror=\"eval(atob('{B64_JS}'))\">",
    f"<svg onload='{JS}'>",
    f"<svg/onload='{JS}'>",
    f"<SVG ONLOAD='{JS}'></SVG>",
    f"<body onload='{JS}'>",
    f"<body onpageshow='{JS}'>",
    f"<details open ontoggle='{JS}'><summary>x</summary></details>",
    f"<video src=x onerror='{JS}'></video>",
    f"<video><source onerror='{JS}'></video>",
    f"<audio src=x onerror='{JS}'></audio>",
    f'<iframe srcdoc="<script>{FRAME_JS}</script>"></iframe>',
    f"<iframe srcdoc='&lt;img src=x onerror=&quot;{FRAME_JS}&quot;&gt;'></iframe>",
    f'<iframe src="javascript:{FRAME_JS}"></iframe>',
    f"<iframe onload='{JS}'></iframe>",
    f'<object data="javascript:{FRAME_JS}"></object>',
    f'<object data="data:text/html;base64,{B64_SCRIPT}"></object>',
    f'<embed src="data:image/svg+xml;base64,{B64_SVG}">',
    f'<embed src="javascript:{FRAME_JS}">',
    f"<marquee onstart='{JS}'>x</marquee>",
    f"<marquee loop=1 width=0 onfinish='{JS}'>x</marquee>",
    f"<input autofocus onfocus='{JS}'>",
    f"<select autofocus onfocus='{JS}'></select>",
    f"<textarea autofocus onfocus='{JS}'></textarea>",
    f"<button onclick='{JS}'>press</button>",
    f"<a onmouseover='{JS}'>hover</a>",
    f"<div onpointerover='{JS}'>hover</div>",
    f"<p onclick='{JS2}'>click</p>",
    f"<span onfocusin='{JS3}' tabindex=0>focus</span>",
    f"<xss onmouseover='{JS}'>custom element</xss>",
    f"<div/onmouseover='{JS}'>x</div>",
    f"<style>@keyframes k{{}}</style><div style=animation-name:k onanimationstart='{JS}'></div>",
    f"<frameset onload='{JS}'>",
    f"<form><button formaction='javascript:{JS}'>go</button></form>",
    f"<form action='javascript:{JS}'><input type=submit></form>",
    f"<form><input type=image src=x onerror='{JS}'></form>",
    f"<isindex type=image src=x onerror='{JS}'>",
]

HTML_URLS = [
    f'<a href="javascript:{JS}">x</a>',
    f'<a href="JaVaScRiPt:{JS}">x</a>',
    f'<a href="{ENT_DEC}{JS}">x</a>',
    f'<a href="{ENT_HEX}{JS}">x</a>',
    f'<a href="java&#x09;script:{JS}">x</a>',
    f'<a href="jav&#x0A;ascript:{JS}">x</a>',
    f'<a href=" \x01javascript:{JS}">x</a>',
    f'<a href="vbscript:{JS}">x</a>',
    f'<a href="data:text/html;base64,{B64_SCRIPT}">x</a>',
    f"<base href='javascript:{JS}//'><a href=x>x</a>",
    f"<meta http-equiv=refresh content='0;url=javascript:{JS}'>",
    f"<link rel=stylesheet href='javascript:{JS}'>",
    f"<div style=\"background:url('javascript:{JS}')\">x</div>",
    f'<div style="width:expression({JS.replace(";", ",")})">x</div>',
    f"<style>*{{x:expression({JS.replace(';', ',')})}}</style>",
    f"<style>@import 'javascript:{JS}';</style>",
    f'<a href="javascript:{JS}">[x](http://ok.example)</a>',
]

SVG_MATHML = [
    f"<svg><script>{JS}</script></svg>",
    f"<svg><script href='data:text/javascript,{JS}'/></svg>",
    f"<svg><animate onbegin='{JS}' attributeName=x dur=1s>",
    f"<svg><set attributeName=onmouseover to='{JS}'/></svg>",
    f'<svg><a xlink:href="javascript:{JS}"><text x=20 y=20>x</text></a></svg>',
    f"<svg><a><animate attributeName=href values='javascript:{JS}'/><text y=20>x</text></a></svg>",
    f"<svg><foreignObject><img src=x onerror='{JS}'></foreignObject></svg>",
    f'<svg><use href="data:image/svg+xml;base64,{B64_SVG}#x"/></svg>',
    f'<math href="javascript:{JS}">click</math>',
    f"<math><mi xlink:href='javascript:{JS}'>x</mi></math>",
    f"<math><mtext><table><mglyph><style><img src=x onerror='{JS}'>",
    f"<math><mtext><table><mglyph><style><!--</style><img title=\"--><img src=x onerror='{JS}'>\">",
    f"<svg></p><style><a id=\"</style><img src=x onerror='{JS}'>\">",
    f"<svg><title><![CDATA[</title><img src=x onerror='{JS}'>]]></svg>",
]

MALFORMED = [
    f"<img src=x onerror='{JS}'",
    f"<svg onload='{JS}'",
    f"<<img src=x onerror='{JS}'>>",
    f'<img src="x onerror="{JS}">',
    f'<a href="javascript:{JS}',
    f"</script>{SCRIPT}",
    f'<img """>{SCRIPT}">',
    f"<img src=x onerror='{JS}'></img>",
    f"<div <img src=x onerror='{JS}'>>",
    f'" onmouseover="{JS}" x="',
    f"' onmouseover='{JS}' x='",
    f"` onmouseover=`{JS}` x=`",
    f'"><img src=x onerror="{JS}">',
    f"'><svg onload='{JS}'>",
    f"`><svg onload='{JS}'>",
    f"</title>{SCRIPT}",
    f"</textarea>{SCRIPT}",
    f"--></p>{SCRIPT}",
]

MARKDOWN_LINKS = [
    f"[x](javascript:{JS})",
    f"[x](JaVaScRiPt:{JS})",
    f"[x](JAVASCRIPT:{JS})",
    f"[x](<javascript:{JS}>)",
    f"[x]( javascript:{JS} )",
    f"[x]({ENT_DEC}{JS})",
    f"[x]({ENT_HEX}{JS})",
    f"[x]({ENT_PAD}{JS})",
    f"[x](java&#09;script:{JS})",
    f"[x](java\tscript:{JS})",
    f"[x](<java\nscript:{JS}>)",
    f"[x](&Tab;javascript:{JS})",
    f"[x](javascript&colon;{JS})",
    f"[x](\x01javascript:{JS})",
    f"[x](%6A%61%76%61%73%63%72%69%70%74:{JS})",
    f"[x](vbscript:{JS})",
    f"[x](VBScript:{JS})",
    f"[x](data:text/html;base64,{B64_SCRIPT})",
    f"[x](data:text/html,<script>{FRAME_JS}</script>)",
    f"[x](data:image/svg+xml;base64,{B64_SVG})",
    f'[x](javascript:{JS} "title")',
    f'[x](http://ok.example "t\\" onmouseover=\\"{JS}")',
    f"[x](http://ok.example 't\" onmouseover=\"{JS}')",
    f'[x](http://ok.example (t" onclick="{JS}))',
    f'[x](http://ok.example/"onmouseover="{JS})',
    f'[x](/local" onmouseover="{JS})',
    f'[x](#" onclick="{JS})',
    f"[x](//evil.example/'onmouseover='{JS})",
    f'[x](http://ok.example "t" hx-get="/logout" hx-trigger="load" hx-on:htmx:load="{JS}")',
    f"[x][r]\n\n[r]: javascript:{JS}",
    f'[x]\n\n[x]: javascript:{JS} "t"',
    f"[x][r]\n\n[r]: <javascript:{JS}>",
    f'[r]\n\n[r]: http://ok.example "a\\" onmouseover=\\"{JS}"',
    f"[x][R]\n\n[r]: JaVaScRiPt:{JS}",
    f"*[x](javascript:{JS})*",
    f"[<img src=x onerror='{JS}'>](http://ok.example)",
    f"[x](http://ok.example)<img src=x onerror='{JS}'>",
]

AUTOLINKS_AND_LINKIFY = [
    f"<javascript:{JS}>",
    f"<JAVASCRIPT:{JS}>",
    f"<vbscript:{JS}>",
    f"<data:text/html;base64,{B64_SCRIPT}>",
    f"<javascript:{JS}//http://ok.example>",
    f'<http://ok.example/"onmouseover="{JS}>',
    f"javascript:{JS}",
    f'http://ok.example/"onmouseover="{JS}',
    f"www.ok.example/{SCRIPT}",
    f"https://ok.example/?q=<img src=x onerror='{JS}'>",
    f'mailto:a@ok.example?subject="><script>{JS}</script>',
    f"a@ok.example\"><img src=x onerror='{JS}'>",
    f"//evil.example/{SCRIPT}",
]

MARKDOWN_IMAGES = [
    f"![x](javascript:{JS})",
    f'![x" onerror="{JS}](http://ok.example/a.png)',
    f'![x](x" onerror="{JS})',
    f'![x](http://ok.example/a.png" onerror="{JS})',
    f'![x](http://ok.example/a.png "t\\" onerror=\\"{JS}")',
    f"![<img src=x onerror='{JS}'>](http://ok.example/a.png)",
    f"![x](data:image/svg+xml;base64,{B64_SVG})",
    f"![x](data:image/png;base64,iVBORw0KGgo=) {IMG}",
    f"[![x](javascript:{JS})](javascript:{JS})",
    f"![x][r]\n\n[r]: javascript:{JS}",
    f"![x](<javascript:{JS}>)",
]

EMPHASIS_AND_BLOCKS = [
    f"**{IMG}**",
    f"_{SCRIPT}_",
    f"~~<svg onload='{JS}'>~~",
    f'***<a href="javascript:{JS}">x</a>***',
    f"**[x](javascript:{JS})**",
    f"# {IMG}",
    f"{IMG}\n===",
    f"> {SCRIPT}",
    f"> > [x](javascript:{JS})",
    f"- <svg onload='{JS}'>\n- [x](javascript:{JS})",
    f"1. {IMG}",
    f"| {IMG} | b |\n|---|---|\n| [x](javascript:{JS}) | c |",
    f'| a |\n|:-:" onmouseover="{JS}|\n| b |',
    f"[^1]\n\n[^1]: {SCRIPT}",
    f"line  \n{IMG}",
    f"<div>\n\n{SCRIPT}\n\n</div>",
    f"<details>\n\n<summary onclick='{JS}'>x</summary>\n\n</details>",
]

CODE = [
    f"```\n</code>{SCRIPT}\n```",
    f"```\n</code></pre><img src=x onerror='{JS}'>\n```",
    f"`</code>{SCRIPT}`",
    f"``</code><img src=x onerror='{JS}'>``",
    f'```"><script>{JS}</script>\nx\n```',
    f"```python onload='{JS}'\nx\n```",
    f"```<img src=x onerror='{JS}'>\nx\n```",
    f'```js" onmouseover="{JS}\nx\n```',
    f"```html\n{SCRIPT}\n{IMG}\n```",
    f"~~~svg\n<svg onload='{JS}'>\n~~~",
    f"    </pre>{SCRIPT}",
    f"```python\n'''</span><img src=x onerror=\"{JS}\">'''\n```",
    f"```c#\n// <script>{JS}</script>\n```",
]

HASHTAGS_AND_MENTIONS = [
    f"#<script>{JS}</script>",
    f"#tag<img src=x onerror='{JS}'>",
    f'#tag" onmouseover="{JS}',
    f'#"onmouseover="{JS}',
    f'@"><img src=x onerror="{JS}">',
    f'@alice"><script>{JS}</script>',
    f"@alice' onclick='{JS}'",
    f"[#tag](javascript:{JS})",
    f"[@alice](javascript:{JS})",
    f"#javascript:{JS}",
    f"@javascript:{JS}",
    f"#tag&#34; onmouseover=&#34;{JS}",
]

HTMX = [
    f'<div hx-get="/logout" hx-trigger="load" hx-on::before-request="{JS}">x</div>',
    f"<a hx-on:click='{JS}'>click</a>",
    f"<a hx-on::load='{JS}'>x</a>",
    f"<a hx-on--click='{JS}'>click</a>",
    f"<div hx-on='click: {JS}'>click</div>",
    f"<div data-hx-on:click='{JS}'>click</div>",
    f'<div data-hx-get="/logout" data-hx-trigger="load" data-hx-on::before-request="{JS}">x</div>',
    f'<button hx-post="/account/delete" hx-trigger="load" hx-on::after-request="{JS}">x</button>',
    f"<img src=x hx-on:error='{JS}'>",
    f"<div hx-get=/ hx-trigger=load hx-vals='js:{{a:{JS.replace(';', ',')}}}'>x</div>",
    f'<form hx-post="/logout" hx-trigger="load" hx-on::before-request="{JS}"></form>',
    f"<div hx-trigger='load' hx-get='/' hx-swap='innerHTML' hx-target='body' hx-on::load='{JS}'>",
    f"<template hx-on::load='{JS}'></template>",
    f"<hx-div hx-on:click='{JS}'>x</hx-div>",
]

VECTORS: list[str] = [
    *SCRIPT_TAGS,
    *EVENT_HANDLERS,
    *HTML_URLS,
    *SVG_MATHML,
    *MALFORMED,
    *MARKDOWN_LINKS,
    *AUTOLINKS_AND_LINKIFY,
    *MARKDOWN_IMAGES,
    *EMPHASIS_AND_BLOCKS,
    *CODE,
    *HASHTAGS_AND_MENTIONS,
    *HTMX,
]
