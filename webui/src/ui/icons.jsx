// Inline SVG icons (no icon font, no external file). aria-hidden: every
// button that shows one also has a text label or aria-label.
const P = {
  inbox: "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z",
  send: "M3 11l18-8-8 18-2-8z",
  drafts: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4",
  junk: "M12 3l9 16H3zM12 10v4M12 17v.5",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
  folder: "M3 6h6l2 2h10v11H3z",
  star: "M12 3l2.8 5.8 6.2.9-4.5 4.4 1 6.3L12 17.5 6.5 20.4l1-6.3L3 9.7l6.2-.9z",
  clip: "M16 7l-7.5 7.5a2 2 0 0 0 3 3L19 10a4 4 0 0 0-6-6l-7.5 7.5a6 6 0 0 0 8.5 8.5L20 14",
  reply: "M10 8V4L3 11l7 7v-4c5 0 8 1.5 11 6-1-6-4-11-11-12z",
  replyAll: "M14 8V4l-7 7 7 7v-4c4 0 7 1.5 9 5-1-5-3.5-10-9-11zM8 5l-6 6 6 6",
  forward: "M14 8V4l7 7-7 7v-4c-5 0-8 1.5-11 6 1-6 4-11 11-12z",
  back: "M15 5l-7 7 7 7",
  shield: "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z",
  search: "M10 4a6 6 0 1 1 0 12 6 6 0 0 1 0-12zM15 15l5 5",
  compose: "M12 5v14M5 12h14",
  menu: "M4 6h16M4 12h16M4 18h16",
  sun: "M12 8a4 4 0 1 1 0 8 4 4 0 0 1 0-8zM12 2v2M12 20v2M2 12h2M20 12h2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4",
  moon: "M20 14A8 8 0 0 1 10 4a8 8 0 1 0 10 10z",
  user: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c1-4 4-6 8-6s7 2 8 6",
  gear: "M12 9a3 3 0 1 1 0 6 3 3 0 0 1 0-6zM12 2v3M12 19v3M2 12h3M19 12h3M5 5l2 2M17 17l2 2M5 19l2-2M17 7l2-2",
  mail: "M3 5h18v14H3zM3 6l9 7 9-7",
  unread: "M12 8a4 4 0 1 1 0 8 4 4 0 0 1 0-8z",
  download: "M12 3v12M7 10l5 5 5-5M4 20h16",
  move: "M3 6h6l2 2h10v11H3zM10 13h7M14 10l3 3-3 3",
  check: "M4 12l5 5L20 6",
  x: "M6 6l12 12M18 6L6 18",
  left: "M15 5l-7 7 7 7",
  right: "M9 5l7 7-7 7",
  refresh: "M20 11a8 8 0 1 0-2 6M20 4v7h-7",
};

export function Icon({ name, size = 18 }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={P[name] || P.folder} />
    </svg>
  );
}
