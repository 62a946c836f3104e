"""Speech Commands data: loader, generated dataset, MFCC front end, feature cache."""
