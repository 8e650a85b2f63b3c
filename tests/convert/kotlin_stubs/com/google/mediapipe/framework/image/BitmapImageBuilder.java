package com.google.mediapipe.framework.image;

public class BitmapImageBuilder {
    public BitmapImageBuilder(android.graphics.Bitmap bitmap) {}
    public MPImage build() { throw new UnsupportedOperationException("stub"); }
}
