// The photo viewer: a photo link (a post's photo, a chat image, or any <a data-viewer>)
// opens the image in a dialog in the app, with zoom and Close, instead of leaving for
// the raw file (which strands people in the installed app). Without JavaScript, or
// with a modifier key / middle click, the link still opens the original.
(() => {
  "use strict";
  const PHOTO_LINKS = "a[data-viewer], a.post__image, a.message__image";
  const MIN_SCALE = 1;
  const MAX_SCALE = 6;
  const STEP = 1.5;

  let dialog = null;
  let image = null;
  let stage = null;
  let original = null;
  let scale = 1;
  let opener = null;

  function button(label, text, onClick) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "button button--small viewer__button";
    element.setAttribute("aria-label", label);
    element.textContent = text;
    element.addEventListener("click", onClick);
    return element;
  }

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "viewer";
    dialog.setAttribute("aria-label", "Photo");
    const bar = document.createElement("div");
    bar.className = "viewer__bar";
    original = document.createElement("a");
    original.className = "button button--small viewer__original";
    original.textContent = "Original";
    original.target = "_blank";
    original.rel = "noopener";
    original.setAttribute("hx-boost", "false");
    bar.append(
      button("Zoom out", "−", () => zoomTo(scale / STEP)),
      button("Zoom in", "+", () => zoomTo(scale * STEP)),
      original,
      button("Close", "Close", () => dialog.close()),
    );
    bar.lastChild.classList.add("viewer__close");
    stage = document.createElement("div");
    stage.className = "viewer__stage";
    image = document.createElement("img");
    image.className = "viewer__image";
    image.addEventListener("dblclick", () => zoomTo(scale > 1 ? 1 : 2));
    stage.append(image);
    dialog.append(bar, stage);
    // Escape closes a modal dialog by itself; either way the keyboard goes back.
    dialog.addEventListener("close", () => {
      image.removeAttribute("src");
      if (opener && opener.isConnected) opener.focus();
      opener = null;
    });
    // A click on the dark backdrop (outside the image and the buttons) closes too.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog || event.target === stage) dialog.close();
    });
    // Wheel with Ctrl (and a trackpad pinch, which Chromium reports so) zooms.
    stage.addEventListener("wheel", (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      zoomTo(scale * (event.deltaY < 0 ? 1.1 : 1 / 1.1));
    }, { passive: false });
    // Two fingers pinch: the distance between them sets the zoom.
    const pointers = new Map();
    let pinchStart = null;
    const distance = () => {
      const [a, b] = [...pointers.values()];
      return Math.hypot(a.x - b.x, a.y - b.y);
    };
    stage.addEventListener("pointerdown", (event) => {
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pointers.size === 2) pinchStart = { distance: distance(), scale };
    });
    stage.addEventListener("pointermove", (event) => {
      if (!pointers.has(event.pointerId)) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (pointers.size === 2 && pinchStart && pinchStart.distance > 0) {
        zoomTo(pinchStart.scale * (distance() / pinchStart.distance));
      }
    });
    const lift = (event) => {
      pointers.delete(event.pointerId);
      if (pointers.size < 2) pinchStart = null;
    };
    stage.addEventListener("pointerup", lift);
    stage.addEventListener("pointercancel", lift);
    document.body.append(dialog);
  }

  function zoomTo(next) {
    scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, next));
    dialog.dataset.scale = scale.toFixed(2);
    dialog.classList.toggle("viewer--zoomed", scale > 1);
    // Fitted at 1; bigger than the screen beyond, and the stage scrolls to pan.
    // (CSSOM styles, which the Content-Security-Policy allows; no style attributes.)
    if (scale > 1) {
      const fit = fittedWidth();
      image.style.width = `${Math.round(fit * scale)}px`;
    } else {
      image.style.removeProperty("width");
    }
  }

  function fittedWidth() {
    const ratio = image.naturalWidth && image.naturalHeight
      ? image.naturalWidth / image.naturalHeight : 1;
    const width = stage.clientWidth;
    const height = stage.clientHeight;
    return Math.min(width, height * ratio, image.naturalWidth || width);
  }

  function open(link) {
    if (!dialog || !dialog.isConnected) build();
    const thumb = link.querySelector("img");
    opener = link;
    image.alt = thumb ? thumb.alt : "";
    image.src = link.href;
    original.href = link.href;
    zoomTo(1);
    dialog.showModal();
    dialog.querySelector(".viewer__close").focus();
  }

  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest(PHOTO_LINKS) : null;
    if (!link || !link.href || typeof HTMLDialogElement === "undefined") return;
    event.preventDefault();
    event.stopPropagation();
    open(link);
  }, true);
})();
