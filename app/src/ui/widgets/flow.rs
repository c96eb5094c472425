//! Framed nodes joined by arrows, left to right: the registry's lineage and the pipeline's
//! stages.

/// The size of a node's content and the room for the arrow between two nodes.
#[derive(Debug, Clone, Copy)]
pub struct FlowSize {
    /// Width of a node's content, in points.
    pub node_width: f32,
    /// Least height of a node's content.
    pub node_height: f32,
    /// Room between two nodes for the arrow.
    pub link_width: f32,
}

/// One framed node with a small caption above its body, its frame in `colour`.
pub fn node(
    ui: &mut egui::Ui,
    size: FlowSize,
    caption: (&str, egui::Color32),
    colour: egui::Color32,
    body: impl FnOnce(&mut egui::Ui),
) -> egui::Response {
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, colour))
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(8, 6))
        .show(ui, |ui| {
            // The row lays nodes out left to right; a node's own lines go top to bottom.
            ui.vertical(|ui| {
                ui.set_width(size.node_width);
                ui.set_min_height(size.node_height);
                ui.spacing_mut().item_spacing = egui::vec2(4.0, 2.0);
                ui.label(egui::RichText::new(caption.0).small().color(caption.1));
                body(ui);
            });
        })
        .response
}

/// The arrow between two nodes in `colour`, or an empty gap when `colour` is `None`.
pub fn arrow(ui: &mut egui::Ui, size: FlowSize, colour: Option<egui::Color32>) {
    let height = size.node_height + 12.0;
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(size.link_width, height), egui::Sense::hover());
    let Some(colour) = colour else { return };
    let stroke = egui::Stroke::new(1.5, colour);
    let y = rect.center().y;
    let (from, to) = (rect.left() + 4.0, rect.right() - 4.0);
    let painter = ui.painter();
    painter.line_segment([egui::pos2(from, y), egui::pos2(to, y)], stroke);
    painter.line_segment([egui::pos2(to - 6.0, y - 4.0), egui::pos2(to, y)], stroke);
    painter.line_segment([egui::pos2(to - 6.0, y + 4.0), egui::pos2(to, y)], stroke);
}
