import { render } from "preact";
import "./styles.css";
import "./theme.js";
import { App } from "./app.jsx";

render(<App />, document.getElementById("app"));
