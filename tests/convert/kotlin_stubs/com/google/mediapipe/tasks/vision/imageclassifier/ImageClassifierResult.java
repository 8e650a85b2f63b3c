package com.google.mediapipe.tasks.vision.imageclassifier;

import com.google.mediapipe.tasks.components.containers.ClassificationResult;

public abstract class ImageClassifierResult {
    public abstract ClassificationResult classificationResult();
    public abstract long timestampMs();
}
