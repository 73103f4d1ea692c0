"""The chat's look (theme and CSS) and the small scripts of its two HTML panels; Gradio takes the theme and the
CSS at ``launch``."""

# Fonts the machine has: the default theme fetches web fonts, which an offline machine waits for and then
# replaces glyph by glyph.
FONTS = ("system-ui", "Liberation Sans", "DejaVu Sans", "Arial", "sans-serif")
MONO_FONTS = ("ui-monospace", "DejaVu Sans Mono", "Liberation Mono", "monospace")


def theme():
    import gradio as gr

    return gr.themes.Default(primary_hue="blue", font=FONTS, font_mono=MONO_FONTS)

CSS = """
.gradio-container { max-width: 1400px !important; }
#qa-header h1 { margin-bottom: 0; font-size: 1.6rem; }
#qa-header p { margin-top: 4px; color: var(--body-text-color-subdued); }
.qa-status { padding: 8px 12px; border-radius: 8px; font-size: 0.95rem; margin: 2px 0; }
.qa-indexing { background: #fff7e0; border: 1px solid #f0c040; color: #6b4e00; }
.qa-done { background: #e9f7ee; border: 1px solid #5cb27a; color: #17522c; }
.qa-failed { background: #fdecec; border: 1px solid #e07070; color: #7a1717; }
.qa-spinner { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 8px; vertical-align: -0.1em;
              border: 2px solid currentColor; border-right-color: transparent; border-radius: 50%;
              animation: qa-spin 0.8s linear infinite; }
@keyframes qa-spin { to { transform: rotate(360deg); } }
.qa-notice { padding: 6px 10px; border-radius: 6px; font-size: 0.9rem; margin-top: 4px; }
.qa-error { background: #fdecec; color: #7a1717; }
.qa-info { background: #eef4ff; color: #1d3f7a; }
#qa-chat .message small, #qa-chat small { font-size: 0.75rem; color: var(--body-text-color-subdued); }
#qa-chat blockquote { margin: 6px 0; padding-left: 10px; border-left: 3px solid #c9d3e6; font-style: normal; }
#qa-chat blockquote strong { font-size: inherit; }
#qa-chat sup { color: #2855a5; font-weight: 600; }
.qa-empty { color: var(--body-text-color-subdued); padding: 12px; }
.qa-sources { display: flex; flex-direction: column; gap: 10px; max-height: 70vh; overflow-y: auto; padding: 2px; }
.qa-answer-box { border-radius: 10px; padding: 10px 12px; background: #f1f5fc; border: 1px solid #c9d3e6; }
.qa-answer-box.qa-none { background: #f6f6f6; border-color: #d8d8d8; }
.qa-label { font-size: 0.8rem; color: #55607a; }
.qa-answer-text { font-size: 1.15rem; font-weight: 700; margin: 2px 0 6px; }
.qa-hint { font-size: 0.8rem; color: #55607a; margin-top: 6px; }
.qa-copy { font-size: 0.8rem; padding: 3px 10px; border-radius: 6px; border: 1px solid #9aa9c6; background: white;
           cursor: pointer; }
.qa-copy:hover { background: #e6ecf8; }
.qa-source { border: 1px solid #dde3ee; border-radius: 10px; padding: 10px 12px; cursor: pointer; background: white;
             transition: border-color 0.15s, box-shadow 0.15s; }
.qa-source:hover, .qa-source:focus { border-color: #6f8fcf; box-shadow: 0 1px 6px rgba(40, 85, 165, 0.15);
                                     outline: none; }
.qa-source-head { display: flex; align-items: baseline; gap: 8px; }
.qa-group { font-size: 0.85em; color: #56627a; margin: 10px 2px 4px; }
.qa-group-title { font-weight: 600; }
.qa-n { display: inline-block; min-width: 1.5em; text-align: center; font-size: 0.8rem; font-weight: 700;
        color: white; background: #2855a5; border-radius: 999px; padding: 0 6px; }
.qa-title { font-weight: 600; font-size: 0.9rem; display: -webkit-box; -webkit-line-clamp: 2;
             -webkit-box-orient: vertical; overflow: hidden; }
.qa-badge { font-size: 0.7rem; background: #e9f7ee; color: #17522c; border: 1px solid #5cb27a; border-radius: 999px;
            padding: 0 6px; }
.qa-meta { font-size: 0.75rem; color: #6b7385; margin: 2px 0 4px; }
.qa-meta code { font-size: 0.75rem; }
.qa-passage { font-size: 0.92rem; line-height: 1.45; white-space: pre-wrap; }
.qa-passage mark, .qa-article mark.qa-answer { background: #ffe27a; color: inherit; padding: 0 1px;
                                                border-radius: 2px; }
.qa-open { font-size: 0.8rem; color: #2855a5; margin-top: 4px; text-align: right; }
.qa-article { max-height: 70vh; overflow-y: auto; padding: 0 8px 4px; }
.qa-article-head { position: sticky; top: 0; background: var(--background-fill-primary); padding: 4px 0 6px;
                   border-bottom: 1px solid #dde3ee; margin-bottom: 8px; }
.qa-article-title { font-size: 1.05rem; font-weight: 700; display: -webkit-box; -webkit-line-clamp: 3;
                    -webkit-box-orient: vertical; overflow: hidden; }
.qa-article-text { white-space: pre-wrap; line-height: 1.55; font-size: 0.95rem; }
.qa-article mark.qa-passage { background: #dfe9ff; color: inherit; border-radius: 3px; padding: 1px 0; }
.qa-conf { font-size: 0.75rem; border-radius: 999px; padding: 0 6px; margin-left: 4px; cursor: help; }
.qa-likely { background: #e9f7ee; color: #17522c; }
.qa-unsure { background: #fff7e0; color: #6b4e00; }
.qa-src, .qa-read-as, .qa-window { font-size: 0.8rem; color: var(--body-text-color-subdued); }
#qa-chat details { font-size: 0.75rem; color: var(--body-text-color-subdued); display: inline-block; margin-right: 8px; }
#qa-chat details summary { cursor: pointer; }
#qa-chat a.qa-cite { color: #2855a5; text-decoration: none; font-weight: 600; cursor: pointer; }
#qa-chat a.qa-cite:hover, #qa-chat a.qa-cite:focus { text-decoration: underline; }
/* [n] previews its source on hover or focus: headline · source · date, and the words around the answer. The
   preview spans its message's width just under the line (the message is its containing block, so it is never cut
   off at the chat's edge). */
#qa-chat [data-testid="bot"] { position: relative; }
#qa-chat sup.qa-cite-mark { position: static; vertical-align: super; top: auto; }
#qa-chat .qa-preview { display: none; }
#qa-chat .qa-conf:hover > .qa-preview, #qa-chat .qa-conf:focus > .qa-preview { display: inline; margin-left: 6px; }
#qa-chat sup.qa-cite-mark:hover > .qa-preview, #qa-chat a.qa-cite:focus + .qa-preview {
  display: block; position: absolute; left: 8px; right: 8px; margin-top: 0.4em; z-index: 30; white-space: normal;
  font-size: 0.8rem; font-weight: 400; line-height: 1.4; text-align: left; vertical-align: baseline;
  color: var(--body-text-color); background: var(--background-fill-primary); border: 1px solid #c9d3e6;
  border-radius: 6px; padding: 6px 8px; box-shadow: 0 2px 10px rgba(0, 0, 0, 0.18); pointer-events: none; }
.qa-copy-message { font-size: 0.75rem; padding: 1px 8px; border-radius: 6px; border: 1px solid #c9d3e6;
                   background: white; cursor: pointer; vertical-align: top; }
.qa-source.qa-focus { border-color: #2855a5; box-shadow: 0 0 0 2px rgba(40, 85, 165, 0.35); }
.qa-also { background: #eef4ff; color: #1d3f7a; border-color: #9aa9c6; }
.qa-library { display: flex; flex-direction: column; gap: 6px; }
.qa-article-list { list-style: none; margin: 0; padding: 0; max-height: 50vh; overflow-y: auto; }
.qa-article-row { display: flex; align-items: center; gap: 8px; border-bottom: 1px solid #eef1f6; padding: 6px 2px; }
.qa-row-text { flex: 1; min-width: 0; }
.qa-remove, .qa-undo { font-size: 0.75rem; padding: 2px 8px; border-radius: 6px; border: 1px solid #c9a0a0;
                       background: white; cursor: pointer; }
.qa-undo { border-color: #5cb27a; margin-left: 6px; }
.qa-library-line { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 6px; }
"""

# js_on_load of the Sources panel: a click (or Enter) on a card opens its article; "Copy answer" copies; a new answer
# (or card picked from the chat) brings the panel to its top (or to that card). It also listens once to the chat:
# "[n]" in an answer asks the server for that answer's card n (a second click opens its article), and an answer's
# Copy button copies the answer, its sentence and its source without the page's furniture.
SOURCES_JS = """
const copied = (button, label) => {
  button.textContent = 'Copied ✓';
  setTimeout(() => { button.textContent = label; }, 1500);
};
const copy = (text, button, label) => {
  const fallback = () => {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); copied(button, label); } finally { area.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(() => copied(button, label), fallback);
  } else {
    fallback();
  }
};
element.addEventListener('click', (event) => {
  const button = event.target.closest('.qa-copy');
  if (button) {
    event.stopPropagation();
    copy(button.dataset.copy, button, 'Copy answer');
    return;
  }
  const card = event.target.closest('.qa-source');
  if (card) trigger('click', {n: Number(card.dataset.n)});
});
element.addEventListener('keydown', (event) => {
  const card = event.target.closest('.qa-source');
  if (card && (event.key === 'Enter' || event.key === ' ')) {
    event.preventDefault();
    trigger('click', {n: Number(card.dataset.n)});
  }
});
const settle = () => {
  const panel = element.querySelector('.qa-sources');
  if (!panel) return;
  const card = panel.dataset.focus ? panel.querySelector('#qa-source-' + panel.dataset.focus) : null;
  if (card) {
    panel.scrollTop += card.getBoundingClientRect().top - panel.getBoundingClientRect().top - 4;
    card.focus({preventScroll: true});
  } else {
    panel.scrollTop = 0;
  }
};
watch('value', () => requestAnimationFrame(settle));
if (!window.qaChatListening) {
  window.qaChatListening = true;
  // Capture, so the chat's own handlers (selecting a message) never see these clicks.
  document.addEventListener('click', (event) => {
    const chat = event.target.closest('#qa-chat');
    if (!chat) return;
    const bot = event.target.closest('[data-testid="bot"]');
    const cite = event.target.closest('a.qa-cite');
    const copyButton = event.target.closest('.qa-copy-message');
    if (!bot || !(cite || copyButton)) return;
    event.preventDefault();
    event.stopPropagation();
    if (cite) {
      const turn = Array.from(chat.querySelectorAll('[data-testid="bot"]')).indexOf(bot);
      trigger('click', {cite: Number(cite.textContent.replace(/[^0-9]/g, '')), turn: turn});
      return;
    }
    const message = bot.cloneNode(true);
    message.querySelectorAll('details, button, .qa-cite-mark, .qa-conf, .qa-read-as, .qa-window')
      .forEach((n) => n.remove());
    const text = message.innerText.split('\\n').map((line) => line.trim()).filter(Boolean).join('\\n');
    copy(text, copyButton, 'Copy');
  }, true);
  // Enter on a focused [n] clicks it (the browser's own activation); the message must not take it as a select.
  document.addEventListener('keydown', (event) => {
    if (event.target.closest && event.target.closest('#qa-chat a.qa-cite')) event.stopPropagation();
  }, true);
}
"""

# js_on_load of the Library panel: Remove asks the server to take that article out.
LIBRARY_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('.qa-remove');
  if (button) trigger('click', {remove: button.dataset.doc});
});
"""

# js_on_load of the note beside the upload box: Undo puts a removed article back.
NOTE_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('.qa-undo');
  if (button) trigger('click', {undo: button.dataset.doc});
});
"""

# js_on_load of the Article panel: bring the highlighted passage into view whenever an article is shown (the tab
# may still be hidden for a moment, so try again until it is laid out).
ARTICLE_JS = """
const reveal = (tries) => {
  const mark = element.querySelector('#qa-passage');
  if (!mark) return;
  if (!mark.offsetParent && tries > 0) { setTimeout(() => reveal(tries - 1), 50); return; }
  // Scroll the article panel only (not the whole page): the passage a third of the way down.
  const panel = element.querySelector('.qa-article');
  const offset = mark.getBoundingClientRect().top - panel.getBoundingClientRect().top;
  panel.scrollTop += offset - panel.clientHeight / 3;
  panel.scrollIntoView({block: 'nearest'});
};
watch('value', () => reveal(40));
reveal(40);
"""
