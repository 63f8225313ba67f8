"""fMRI data: CIFTI-2 and NIfTI reading and writing, subject BOLD preparation."""
