"""`kws-nas bench --out`: the stage chart goes through the report's figure writer (HTML + PNG, shared plotly.js)."""
import re

from nas.board.bench_cli import _plot


def test_bench_chart_is_html_and_png_with_one_plotly_js(tmp_path):
    rows = [{"mode": mode, "stage": stage, "ms": ms} for mode, scale in (("whole clip", 1.0), ("always-on", 0.1))
            for stage, ms in (("features", 29.2 * scale), ("network", 0.57), ("post", 0.01))]
    _plot(rows, "model.tflite on mps2_an500", tmp_path)
    (src,) = re.findall(r'<script[^>]*src="([^"]+)"', (tmp_path / "breakdown.html").read_text())
    assert (tmp_path / src).is_file() and (tmp_path / src).stat().st_size > 1_000_000
    assert (tmp_path / "breakdown.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "breakdown.html").read_text()
    assert "29.20 ms" in html and "2.92 ms" in html and "always-on" in html
