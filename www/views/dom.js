// Small DOM helpers shared by the views.
// Must NOT: know about the page's state or any element in particular.

export const $ = (id) => document.getElementById(id);

/** Sets `element`'s text only when it differs (a notice is not announced again for nothing). */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

export function setHidden(element, hidden) {
  if (element.hidden !== hidden) element.hidden = hidden;
}
