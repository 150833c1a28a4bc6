"""Text: tokens (jieba, the segmenter of spaCy's ``zh``), sentiment annotation and PII masking."""
